-- The registry of rollups (service/rollups.py): what each one is, which object implements it on this
-- server (continuous aggregate or materialized hypertable), and whether it still needs a full refresh.
CREATE TABLE rollup_definitions (
    name                 text PRIMARY KEY CHECK (name ~ '^[a-z_][a-z0-9_]*$'),
    mode                 text NOT NULL CHECK (mode IN ('continuous_aggregate', 'materialized_hypertable')),
    bucket_width         interval NOT NULL,
    definition           text NOT NULL,
    checksum             text NOT NULL,
    refresh_start_offset interval NOT NULL,
    refresh_end_offset   interval NOT NULL,
    schedule_interval    interval NOT NULL,
    needs_refresh        boolean NOT NULL DEFAULT true,
    defined_at           timestamptz NOT NULL DEFAULT now(),
    refreshed_at         timestamptz
);
