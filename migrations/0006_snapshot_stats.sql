-- Per-snapshot summary in the registry, computed in SQL from the snapshot's rows when it is written
-- (jobs/ingest/writer.py). The daily and hourly rollups read these instead of millions of rows, and
-- an empty book (no rows at all) still has its snapshot: no floor, no listings.
ALTER TABLE snapshots
    ADD COLUMN floor_landed     numeric(12, 2),
    ADD COLUMN units_near_floor integer,
    ADD COLUMN market_cap       numeric(14, 2);

-- Product history and level look-ups go by product first.
CREATE INDEX snapshots_product ON snapshots (product_id, observed_at DESC);
