-- A product's image as admins see it: the marketplace's URL, their override, the last download's failure.
SELECT p.image_source_url, p.image_override_url, d.error AS image_error
FROM products p
LEFT JOIN image_downloads d ON d.product_id = p.id AND d.url = coalesce(p.image_override_url, p.image_source_url)
WHERE p.id = %(id)s;
