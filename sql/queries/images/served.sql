-- The image a product shows; its bytes only when the client does not hold them already (%(known)s:
-- the tags of If-None-Match), so a revalidation reads no blob.
SELECT i.sha256, i.content_type, CASE WHEN i.sha256 = ANY(%(known)s::text[]) OR '*' = ANY(%(known)s::text[]) THEN NULL ELSE i.data END AS data
FROM products p
JOIN images i ON i.sha256 = p.image_sha256
WHERE p.id = %(product_id)s;
