-- The latest TCGplayer market price of each product within the window: the centre of the automatic
-- price band for marketplace searches whose source sets no band of its own.
SELECT DISTINCT ON (product_id) product_id, market_price
FROM price_points
WHERE marketplace IN (SELECT code FROM marketplaces WHERE market_price_source AND NOT simulated)
  AND product_id = ANY (%(product_ids)s::integer[])
  AND observed_at >= now() - make_interval(days => %(days)s)
  AND market_price IS NOT NULL
ORDER BY product_id, observed_at DESC;
