-- Per product, marketplace and UTC day: the marketplace's last reported value of each price that day.
-- @bucket_width 1 day
-- @refresh_start_offset 7 days
-- @refresh_end_offset 0 seconds
-- @schedule_interval 1 hour
-- @chunk_interval 180 days
-- @index product_id, marketplace
SELECT time_bucket('1 day', observed_at) AS bucket,
       product_id,
       marketplace,
       last(market_price, observed_at) FILTER (WHERE market_price IS NOT NULL) AS market_price,
       last(low_price, observed_at) FILTER (WHERE low_price IS NOT NULL) AS low_price,
       last(mid_price, observed_at) FILTER (WHERE mid_price IS NOT NULL) AS mid_price,
       last(high_price, observed_at) FILTER (WHERE high_price IS NOT NULL) AS high_price,
       last(direct_low_price, observed_at) FILTER (WHERE direct_low_price IS NOT NULL) AS direct_low_price
FROM price_points
GROUP BY 1, 2, 3
