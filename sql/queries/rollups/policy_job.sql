-- The refresh policy job of a continuous aggregate of this schema, if it has one.
SELECT j.job_id
FROM timescaledb_information.continuous_aggregates c
JOIN timescaledb_information.jobs j
  ON j.hypertable_schema = c.materialization_hypertable_schema
 AND j.hypertable_name = c.materialization_hypertable_name
WHERE c.view_schema = current_schema()
  AND c.view_name = %(name)s
  AND j.proc_name = 'policy_refresh_continuous_aggregate'
ORDER BY j.job_id
LIMIT 1;
