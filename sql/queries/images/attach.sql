-- Serve this image for the product, but only if it came from the URL still wanted: an override set
-- during the download wins (its own download follows). Returns the image the product held before.
UPDATE products p
SET image_sha256 = %(sha256)s
FROM (SELECT id, image_sha256 FROM products WHERE id = %(product_id)s FOR UPDATE) AS before
WHERE p.id = before.id
  AND coalesce(p.image_override_url, p.image_source_url) IS NOT DISTINCT FROM %(url)s
RETURNING before.image_sha256 AS previous;
