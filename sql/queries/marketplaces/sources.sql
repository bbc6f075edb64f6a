-- The active sources of one marketplace (optionally only some products), with the rules their
-- listings are filtered by.
SELECT s.product_id, s.external_id, s.search_query, s.category_id, s.price_min_usd, s.price_max_usd,
       s.exclude_terms, p.packs_per_box, p.name
FROM product_sources s
JOIN products p ON p.id = s.product_id
WHERE s.marketplace = %(marketplace)s AND s.active AND p.active
  AND (%(product_ids)s::integer[] IS NULL OR s.product_id = ANY (%(product_ids)s::integer[]))
ORDER BY s.product_id;
