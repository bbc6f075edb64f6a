-- Catalog search with the latest metrics of each product (for a day). The filters are the request's own,
-- composed in (service/api/common.py, FILTERS).
SELECT count(*) OVER () AS total,
       p.id, p.slug, p.name, p.game, p.set_code, p.set_name, p.product_type, p.release_date, p.image_url,
       p.reprint_risk, m.floor_price, m.market_price, m.volume_24h, m.floor_change_pct_1d
FROM products p
LEFT JOIN metric_rows m ON m.product_id = p.id AND m.day = %(day)s
WHERE p.active {filters}
ORDER BY p.game, p.release_date DESC NULLS LAST, p.id
LIMIT %(limit)s OFFSET %(offset)s;
