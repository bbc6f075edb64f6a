-- Products mapped to a marketplace (by the catalog CSV, an admin or an earlier look-up) whose image
-- URL no marketplace has given yet: the external id to look up, and our product.
SELECT s.external_id, s.product_id
FROM product_sources s
JOIN products p ON p.id = s.product_id
WHERE s.marketplace = %(marketplace)s
  AND s.active AND s.external_id IS NOT NULL
  AND p.active AND p.image_source_url IS NULL
ORDER BY s.product_id;
