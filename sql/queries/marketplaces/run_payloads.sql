-- The raw payloads of one run, in the order they were fetched, for replay.
SELECT fetched_at, marketplace, request, status, body, context
FROM raw_payloads
WHERE ingest_run_id = %(run_id)s
ORDER BY fetched_at;
