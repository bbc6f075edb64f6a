-- The latest complete snapshot of each marketplace (or one), cheapest landed price first.
WITH latest AS (
    SELECT DISTINCT ON (marketplace) marketplace, observed_at
    FROM snapshots
    WHERE product_id = %(product_id)s AND complete
      AND (%(marketplace)s::text IS NULL OR marketplace = %(marketplace)s)
    ORDER BY marketplace, observed_at DESC
)
SELECT count(*) OVER () AS total, l.marketplace, l.observed_at, l.listing_id, l.seller_id, l.unit_price,
       l.shipping, l.unit_price + l.shipping AS landed_price, l.quantity
FROM latest
JOIN listing_snapshots l
  ON l.product_id = %(product_id)s AND l.marketplace = latest.marketplace AND l.observed_at = latest.observed_at
ORDER BY landed_price, l.marketplace, l.listing_id
LIMIT %(limit)s OFFSET %(offset)s;
