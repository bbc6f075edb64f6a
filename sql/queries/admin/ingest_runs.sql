SELECT count(*) OVER () AS total, id, kind, marketplace, product_ids, status, started_at, finished_at,
       rows_written, rows_rejected, http_calls, http_errors, error, job_id, replay_of
FROM ingest_runs
WHERE (%(kind)s::text IS NULL OR kind = %(kind)s) AND (%(status)s::text IS NULL OR status = %(status)s)
ORDER BY started_at DESC, id DESC
LIMIT %(limit)s OFFSET %(offset)s;
