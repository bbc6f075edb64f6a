-- Marketplace adapters (jobs/marketplaces). A raw payload records what it was fetched for (the
-- product, the snapshot instant, the page), so a run can be replayed through the same parsers; a run
-- counts its failed HTTP calls beside its calls, and a replay run names the run it re-parsed.
ALTER TABLE raw_payloads ADD COLUMN context jsonb;
ALTER TABLE ingest_runs ADD COLUMN http_errors integer NOT NULL DEFAULT 0;
ALTER TABLE ingest_runs ADD COLUMN replay_of bigint;
