SELECT name, mode, bucket_width, definition, checksum, refresh_start_offset, refresh_end_offset,
       schedule_interval, needs_refresh, defined_at, refreshed_at
FROM rollup_definitions
ORDER BY name;
