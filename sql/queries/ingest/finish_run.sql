UPDATE ingest_runs
SET status = %(status)s, finished_at = now(), rows_written = %(rows_written)s, rows_rejected = %(rows_rejected)s,
    http_calls = %(http_calls)s, error = %(error)s
WHERE id = %(run_id)s;
