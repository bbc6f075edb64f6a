-- TimescaleDB is the engine: hypertables, time_bucket, and (where licensed) continuous aggregates.
CREATE EXTENSION IF NOT EXISTS timescaledb;
