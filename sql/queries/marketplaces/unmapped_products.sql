-- Active products with no source on this marketplace yet (candidates for a catalog look-up).
SELECT p.id, p.name, p.game
FROM products p
WHERE p.active
  AND NOT EXISTS (SELECT 1 FROM product_sources s WHERE s.product_id = p.id AND s.marketplace = %(marketplace)s)
ORDER BY p.id;
