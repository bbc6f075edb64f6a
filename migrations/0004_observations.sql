-- Raw observations (SPEC §2). Never updated in place: every served number traces back to these.
-- Chunk intervals and indexes are explained in docs/DBA.md.

CREATE TABLE ingest_runs (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind           text NOT NULL,              -- fetch, import, sim-backfill, sim-tick, ...
    marketplace    text REFERENCES marketplaces (code),
    product_ids    integer[],
    status         text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed', 'deferred')),
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    rows_written   jsonb NOT NULL DEFAULT '{}',  -- per table
    rows_rejected  jsonb NOT NULL DEFAULT '{}',  -- per reason
    http_calls     integer NOT NULL DEFAULT 0,
    error          text,
    job_id         text
);
CREATE INDEX ingest_runs_started ON ingest_runs (started_at DESC);

-- One row per listing snapshot: the idempotency key of the (index-light) listing rows.
CREATE TABLE snapshots (
    observed_at    timestamptz NOT NULL,
    product_id     integer NOT NULL,
    marketplace    text NOT NULL,
    complete       boolean NOT NULL,
    listing_count  integer NOT NULL CHECK (listing_count >= 0),
    units          integer NOT NULL CHECK (units >= 0),
    ingest_run_id  bigint,
    -- Listing-change inference (SPEC §3): filled when this snapshot is diffed against the previous one.
    prev_observed_at timestamptz,
    diffed         boolean NOT NULL DEFAULT false,
    units_added    integer,
    units_inferred_sold integer,
    UNIQUE (product_id, marketplace, observed_at)
);
SELECT create_hypertable('snapshots', by_range('observed_at', interval '30 days'), create_default_indexes => false);
CREATE INDEX snapshots_pending ON snapshots (marketplace, product_id, observed_at) WHERE complete AND NOT diffed;

-- The hot table: ~25 rows per snapshot, millions a day at scale. Its only index serves "the rows of
-- this product's snapshot at t"; idempotency comes from the snapshots registry, not a per-row key.
CREATE TABLE listing_snapshots (
    observed_at  timestamptz NOT NULL,
    product_id   integer NOT NULL,
    marketplace  text NOT NULL,
    listing_id   text NOT NULL,
    seller_id    text NOT NULL DEFAULT '',
    unit_price   numeric(12, 2) NOT NULL,
    shipping     numeric(12, 2) NOT NULL DEFAULT 0,
    quantity     integer NOT NULL
);
SELECT create_hypertable('listing_snapshots', by_range('observed_at', interval '7 days'), create_default_indexes => false);
CREATE INDEX listing_snapshots_product ON listing_snapshots (product_id, observed_at DESC);

CREATE TABLE sales (
    sold_at      timestamptz NOT NULL,
    product_id   integer NOT NULL,
    marketplace  text NOT NULL,
    sale_key     text NOT NULL,
    unit_price   numeric(12, 2) NOT NULL,
    shipping     numeric(12, 2) NOT NULL DEFAULT 0,
    quantity     integer NOT NULL,
    basis        text NOT NULL CHECK (basis IN ('reported', 'inferred')),
    listing_id   text,
    ingest_run_id bigint,
    UNIQUE (marketplace, sale_key, sold_at)
);
SELECT create_hypertable('sales', by_range('sold_at', interval '30 days'), create_default_indexes => false);
CREATE INDEX sales_product ON sales (product_id, sold_at DESC);

CREATE TABLE price_points (
    observed_at      timestamptz NOT NULL,
    product_id       integer NOT NULL,
    marketplace      text NOT NULL,
    market_price     numeric(12, 2),
    low_price        numeric(12, 2),
    mid_price        numeric(12, 2),
    high_price       numeric(12, 2),
    direct_low_price numeric(12, 2),
    ingest_run_id    bigint,
    UNIQUE (product_id, marketplace, observed_at)
);
SELECT create_hypertable('price_points', by_range('observed_at', interval '30 days'), create_default_indexes => false);

CREATE TABLE listing_events (
    observed_at      timestamptz NOT NULL,       -- t1, the later snapshot of the pair
    product_id       integer NOT NULL,
    marketplace      text NOT NULL,
    listing_id       text NOT NULL,
    seller_id        text NOT NULL,
    event            text NOT NULL CHECK (event IN ('LISTED', 'DELISTED', 'WITHDRAWN', 'QTY_DOWN', 'QTY_UP', 'PRICE_CHANGED')),
    prev_unit_price  numeric(12, 2),
    unit_price       numeric(12, 2),
    prev_quantity    integer,
    quantity         integer
);
SELECT create_hypertable('listing_events', by_range('observed_at', interval '30 days'), create_default_indexes => false);
CREATE INDEX listing_events_product ON listing_events (product_id, observed_at DESC);

CREATE TABLE raw_payloads (
    fetched_at    timestamptz NOT NULL,
    ingest_run_id bigint,
    marketplace   text NOT NULL,
    request       text NOT NULL,              -- method and URL, without credentials
    status        integer,
    body          jsonb NOT NULL
);
SELECT create_hypertable('raw_payloads', by_range('fetched_at', interval '1 day'), create_default_indexes => false);
CREATE INDEX raw_payloads_run ON raw_payloads (ingest_run_id, fetched_at);

-- Settings DBAs may change (SPEC §3-§4); a change is followed by a recompute.
CREATE TABLE settings (
    key         text PRIMARY KEY,
    value       numeric NOT NULL,
    description text NOT NULL
);
INSERT INTO settings (key, value, description) VALUES
    ('max_sale_premium', 1.30, 'A delisted listing priced above this multiple of the floor was withdrawn, not sold'),
    ('max_snapshot_gap_hours', 48, 'Snapshot pairs further apart than this are not diffed'),
    ('max_carry_days', 3, 'Days a level (price, listings) is carried forward'),
    ('near_floor_band', 0.20, 'Units priced within this fraction above the floor are near the floor'),
    ('raw_payload_retention_days', 30, 'Raw payloads older than this are dropped');
