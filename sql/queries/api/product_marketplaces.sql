-- Per marketplace: its latest daily levels, that day's sales and its latest reported prices.
SELECT md.marketplace, mk.name AS marketplace_name, md.bucket::date AS day, md.close_floor AS floor_price,
       md.low_floor AS floor_low, md.listings AS active_listings, md.units AS units_listed,
       md.units_near_floor, md.market_cap AS visible_market_cap, md.last_snapshot_at,
       coalesce(sd.units_sold, 0) AS units_sold, coalesce(sd.sales_count, 0) AS sales_count,
       coalesce(sd.volume_usd, 0) AS volume_usd, pd.market_price
FROM (
    SELECT DISTINCT ON (marketplace) *
    FROM marketplace_daily
    WHERE product_id = %(product_id)s AND snapshots > 0 AND bucket < (%(day)s::date + 1)::timestamptz
    ORDER BY marketplace, bucket DESC
) md
JOIN marketplaces mk ON mk.code = md.marketplace
LEFT JOIN sales_daily sd ON sd.product_id = %(product_id)s AND sd.marketplace = md.marketplace AND sd.bucket = md.bucket
LEFT JOIN LATERAL (
    SELECT p.market_price FROM price_daily p
    WHERE p.product_id = %(product_id)s AND p.marketplace = md.marketplace AND p.market_price IS NOT NULL
      AND p.bucket < (%(day)s::date + 1)::timestamptz
    ORDER BY p.bucket DESC
    LIMIT 1
) pd ON true
ORDER BY md.marketplace;
