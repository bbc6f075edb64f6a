-- TimescaleDB's own background jobs (the rollups' refresh policies and its maintenance jobs), each with
-- its last run and, when that run failed, its error: what /metrics, /health/ready and
-- `flask rollups jobs` report. A refresh policy is named by the continuous aggregate it refreshes.
SELECT j.job_id,
       coalesce(c.view_name::text, j.hypertable_name::text, j.proc_name::text) AS job,
       j.application_name,
       j.scheduled,
       s.last_run_status,
       CASE WHEN isfinite(s.last_run_started_at) THEN s.last_run_started_at END AS last_run_started_at,
       CASE WHEN isfinite(s.last_successful_finish) THEN s.last_successful_finish END AS last_successful_finish,
       CASE WHEN isfinite(s.next_start) THEN s.next_start END AS next_start,
       coalesce(s.total_runs, 0) AS total_runs,
       coalesce(s.total_failures, 0) AS total_failures,
       e.sqlerrcode AS last_error_code,
       e.err_message AS last_error
FROM timescaledb_information.jobs j
LEFT JOIN timescaledb_information.job_stats s USING (job_id)
LEFT JOIN timescaledb_information.continuous_aggregates c
  ON c.materialization_hypertable_schema = j.hypertable_schema
 AND c.materialization_hypertable_name = j.hypertable_name
LEFT JOIN LATERAL (
    SELECT sqlerrcode, err_message
    FROM timescaledb_information.job_errors e
    WHERE e.job_id = j.job_id
    ORDER BY e.finish_time DESC NULLS FIRST
    LIMIT 1
) e ON s.last_run_status = 'Failed'
ORDER BY j.job_id;
