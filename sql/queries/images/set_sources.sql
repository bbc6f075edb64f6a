-- What marketplaces say a product's image URL is (kept as given). Only changes are written; the ids
-- returned are the products whose wanted URL changed with it (no admin override hides it).
UPDATE products p
SET image_source_url = given.url
FROM unnest(%(product_ids)s::integer[], %(urls)s::text[]) AS given (product_id, url)
WHERE p.id = given.product_id
  AND p.image_source_url IS DISTINCT FROM given.url
RETURNING p.id, p.image_override_url IS NULL AS wanted_changed;
