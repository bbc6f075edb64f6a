-- One product's wanted image URL, the image it holds, and its last download.
SELECT p.id, coalesce(p.image_override_url, p.image_source_url) AS url, p.image_sha256,
       d.url AS downloaded_url, d.error
FROM products p
LEFT JOIN image_downloads d ON d.product_id = p.id
WHERE p.id = %(product_id)s;
