SELECT e.extversion AS timescaledb_version,
       current_setting('timescaledb.license', true) AS timescaledb_license,
       current_setting('server_version') AS postgres_version
FROM pg_extension e
WHERE e.extname = 'timescaledb';
