-- The outcome of a product's latest download (error null: stored).
INSERT INTO image_downloads (product_id, url, attempted_at, error)
VALUES (%(product_id)s, %(url)s, now(), %(error)s)
ON CONFLICT (product_id) DO UPDATE SET url = excluded.url, attempted_at = excluded.attempted_at, error = excluded.error;
