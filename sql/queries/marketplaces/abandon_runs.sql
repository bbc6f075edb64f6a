-- Runs of this job that never finished: their worker died. The retry that calls this starts afresh.
UPDATE ingest_runs
SET status = 'failed', finished_at = now(), error = 'abandoned: the worker running it stopped before it finished'
WHERE job_id = %(job_id)s AND status = 'running';
