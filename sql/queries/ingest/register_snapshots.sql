-- Register snapshots; a snapshot seen before is skipped (its rows were written with it).
-- Returns the snapshots registered now: only their listing rows are copied in. An empty book's
-- summary is known already (nothing listed); others are summarised from their rows after the COPY.
INSERT INTO snapshots (observed_at, product_id, marketplace, complete, listing_count, units, ingest_run_id,
                       units_near_floor, market_cap)
SELECT s.observed_at, s.product_id, %(marketplace)s, s.complete, s.listing_count, s.units, %(run_id)s,
       CASE WHEN s.listing_count = 0 THEN 0 END, CASE WHEN s.listing_count = 0 THEN 0 END
FROM unnest(%(observed_at)s::timestamptz[], %(product_id)s::integer[], %(complete)s::boolean[],
            %(listing_count)s::integer[], %(units)s::integer[])
     AS s (observed_at, product_id, complete, listing_count, units)
ON CONFLICT (product_id, marketplace, observed_at) DO NOTHING
RETURNING product_id, observed_at;
