-- The same per hour, for 1h history in the API.
-- @bucket_width 1 hour
-- @refresh_start_offset 2 days
-- @refresh_end_offset 0 seconds
-- @schedule_interval 15 minutes
-- @chunk_interval 30 days
-- @index product_id, marketplace
SELECT time_bucket('1 hour', observed_at) AS bucket,
       product_id,
       marketplace,
       last(floor_landed, observed_at) FILTER (WHERE complete) AS close_floor,
       min(floor_landed) FILTER (WHERE complete) AS low_floor,
       last(listing_count, observed_at) FILTER (WHERE complete) AS listings,
       last(units, observed_at) FILTER (WHERE complete) AS units,
       last(units_near_floor, observed_at) FILTER (WHERE complete) AS units_near_floor,
       last(market_cap, observed_at) FILTER (WHERE complete) AS market_cap,
       max(observed_at) FILTER (WHERE complete) AS last_snapshot_at,
       count(*) FILTER (WHERE complete) AS snapshots,
       coalesce(sum(units_added) FILTER (WHERE complete), 0) AS units_added
FROM snapshots
GROUP BY 1, 2, 3
