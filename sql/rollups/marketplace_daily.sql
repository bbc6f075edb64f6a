-- Per product, marketplace and UTC day, from the snapshot registry (complete snapshots only):
-- the close (last snapshot of the day) and the day's lowest floor, listings, units, units near the
-- marketplace's own floor, visible market cap, supply added (SPEC §3) and when the last snapshot was.
-- @bucket_width 1 day
-- @refresh_start_offset 7 days
-- @refresh_end_offset 0 seconds
-- @schedule_interval 15 minutes
-- @chunk_interval 180 days
-- @index product_id, marketplace
SELECT time_bucket('1 day', observed_at) AS bucket,
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
