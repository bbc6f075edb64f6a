INSERT INTO rollup_definitions (name, mode, bucket_width, definition, checksum, refresh_start_offset,
                                refresh_end_offset, schedule_interval, needs_refresh)
VALUES (%(name)s, %(mode)s, %(bucket_width)s, %(definition)s, %(checksum)s, %(refresh_start_offset)s,
        %(refresh_end_offset)s, %(schedule_interval)s, %(needs_refresh)s)
ON CONFLICT (name) DO UPDATE SET
    mode = excluded.mode, bucket_width = excluded.bucket_width, definition = excluded.definition,
    checksum = excluded.checksum, refresh_start_offset = excluded.refresh_start_offset,
    refresh_end_offset = excluded.refresh_end_offset, schedule_interval = excluded.schedule_interval,
    needs_refresh = excluded.needs_refresh OR rollup_definitions.needs_refresh,
    defined_at = CASE WHEN excluded.needs_refresh THEN now() ELSE rollup_definitions.defined_at END;
