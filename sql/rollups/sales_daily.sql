-- Per product, marketplace and UTC day: units sold, number of sales and volume (unit price x quantity).
-- @bucket_width 1 day
-- @refresh_start_offset 7 days
-- @refresh_end_offset 0 seconds
-- @schedule_interval 15 minutes
-- @chunk_interval 180 days
-- @index product_id, marketplace
SELECT time_bucket('1 day', sold_at) AS bucket,
       product_id,
       marketplace,
       sum(quantity) AS units_sold,
       count(*) AS sales_count,
       sum(unit_price * quantity) AS volume_usd
FROM sales
GROUP BY 1, 2, 3
