-- Catalog search with the latest metrics of each product (for a day).
SELECT count(*) OVER () AS total,
       p.id, p.slug, p.name, p.game, p.set_code, p.set_name, p.product_type, p.release_date, p.image_url,
       p.reprint_risk, m.floor_price, m.market_price, m.volume_24h, m.floor_change_pct_1d
FROM products p
LEFT JOIN metric_rows m ON m.product_id = p.id AND m.day = %(day)s
WHERE p.active
  AND (%(game)s::text IS NULL OR p.game = %(game)s)
  AND (%(product_type)s::text IS NULL OR p.product_type = %(product_type)s)
  AND (%(release_year)s::integer IS NULL OR extract(year FROM p.release_date) = %(release_year)s)
  AND (%(min_price)s::numeric IS NULL OR m.floor_price >= %(min_price)s)
  AND (%(max_price)s::numeric IS NULL OR m.floor_price <= %(max_price)s)
  AND (%(q)s::text IS NULL OR p.name ILIKE %(q)s OR p.slug ILIKE %(q)s OR p.set_code ILIKE %(q)s)
ORDER BY p.game, p.release_date DESC NULLS LAST, p.id
LIMIT %(limit)s OFFSET %(offset)s;
