-- The same per hour, for 1h history in the API.
-- @bucket_width 1 hour
-- @refresh_start_offset 2 days
-- @refresh_end_offset 0 seconds
-- @schedule_interval 15 minutes
-- @chunk_interval 30 days
-- @index product_id, marketplace
SELECT time_bucket('1 hour', sold_at) AS bucket,
       product_id,
       marketplace,
       sum(quantity) AS units_sold,
       count(*) AS sales_count,
       sum(unit_price * quantity) AS volume_usd
FROM sales
GROUP BY 1, 2, 3
