-- Box images. Marketplaces name an image URL (TCGplayer's catalog, the tcgcsv mirror); an admin may
-- override it. A job (jobs/images.py) downloads the image once and stores it here, and the API serves
-- it itself at /api/v1/products/{id}/image: users' browsers never contact the image host.

-- The stored images, by content: a product points at one; identical images are stored once.
CREATE TABLE images (
    sha256       text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    data         bytea NOT NULL CHECK (octet_length(data) > 0),
    stored_at    timestamptz NOT NULL DEFAULT now()
);

-- Until now `image_url` was free text set by admins; it becomes the address the API serves the stored
-- image at, derived from the image's digest (so it changes whenever the image does, and clients may
-- cache it for good). A URL an admin had set becomes their override.
ALTER TABLE products
    ADD COLUMN image_source_url   text,  -- the image's URL as a marketplace gives it; kept as given
    ADD COLUMN image_override_url text,  -- an admin's URL: wins over image_source_url; fetches never touch it
    ADD COLUMN image_sha256       text REFERENCES images (sha256);  -- the stored image served now
UPDATE products SET image_override_url = image_url WHERE image_url IS NOT NULL;
ALTER TABLE products DROP COLUMN image_url;
ALTER TABLE products ADD COLUMN image_url text GENERATED ALWAYS AS (
    CASE WHEN image_sha256 IS NOT NULL THEN '/api/v1/products/' || id || '/image?v=' || left(image_sha256, 16) END
) STORED;

-- The last download of each product's image: which URL, when, and why it failed (null: it was stored).
-- A product needs a download while its wanted URL (override, else source) is not the one recorded here.
CREATE TABLE image_downloads (
    product_id   integer PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
    url          text NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now(),
    error        text
);
