-- From demo to live, in one transaction (service/core/data_mode.py): every simulated row goes, and
-- every computed row with it (they were computed from the simulation; the recompute that follows
-- derives them again from what is real). Rollups are refreshed by that recompute.
-- name: listing_snapshots
DELETE FROM listing_snapshots WHERE marketplace IN (SELECT code FROM marketplaces WHERE simulated);
-- name: listing_events
DELETE FROM listing_events WHERE marketplace IN (SELECT code FROM marketplaces WHERE simulated);
-- name: snapshots
DELETE FROM snapshots WHERE marketplace IN (SELECT code FROM marketplaces WHERE simulated);
-- name: sales
DELETE FROM sales WHERE marketplace IN (SELECT code FROM marketplaces WHERE simulated);
-- name: price_points
DELETE FROM price_points WHERE marketplace IN (SELECT code FROM marketplaces WHERE simulated);
-- name: raw_payloads
DELETE FROM raw_payloads WHERE marketplace IN (SELECT code FROM marketplaces WHERE simulated);
-- name: product_sources
DELETE FROM product_sources WHERE marketplace IN (SELECT code FROM marketplaces WHERE simulated);
-- name: ingest_runs
DELETE FROM ingest_runs
WHERE marketplace IN (SELECT code FROM marketplaces WHERE simulated) OR kind IN ('sim-tick', 'sim-backfill');
-- name: sim_state
DELETE FROM sim_state;
-- name: product_metrics_daily
DELETE FROM product_metrics_daily;
-- name: product_ranks_daily
DELETE FROM product_ranks_daily;
-- name: market_index_daily
DELETE FROM market_index_daily;
-- name: pipeline_requests
DELETE FROM pipeline_requests;
