-- Hourly history from the hourly rollups, unified across marketplaces like the daily metrics
-- (levels of the hour's last snapshot per marketplace; no carry-forward within a day).
WITH hours AS (
    SELECT bucket, min(close_floor) AS floor_price, sum(listings)::integer AS active_listings,
           sum(units)::integer AS units_listed
    FROM marketplace_hourly
    WHERE product_id = %(product_id)s AND snapshots > 0 AND bucket >= %(from)s AND bucket < %(to)s
    GROUP BY bucket
), sold AS (
    SELECT bucket, sum(units_sold)::integer AS units_sold, sum(sales_count)::integer AS sales_count,
           sum(volume_usd) AS volume_usd
    FROM sales_hourly
    WHERE product_id = %(product_id)s AND bucket >= %(from)s AND bucket < %(to)s
    GROUP BY bucket
)
SELECT coalesce(h.bucket, s.bucket) AS period, h.floor_price, h.active_listings, h.units_listed,
       coalesce(s.units_sold, 0) AS units_sold, coalesce(s.sales_count, 0) AS sales_count,
       coalesce(s.volume_usd, 0) AS volume_usd
FROM hours h
FULL JOIN sold s ON s.bucket = h.bucket
ORDER BY 1;
