-- Each setting declares what it may be, and the table refuses anything else. DBAs change settings
-- with plain SQL (docs/DBA.md), so the database is where a mistake must stop: a negative
-- record_retention_days would have deleted every finished record, an ema_short_days of 0 divides
-- nothing, and a fractional max_carry_days turned into a day count nobody chose. Bounds are
-- inclusive; a setting with no upper bound has max_value NULL.
ALTER TABLE settings
    ADD COLUMN min_value numeric,
    ADD COLUMN max_value numeric,
    ADD COLUMN whole boolean NOT NULL DEFAULT false;

UPDATE settings s
SET min_value = b.min_value, max_value = b.max_value, whole = b.whole
FROM (VALUES
    ('max_sale_premium',           1,    NULL::numeric, false),
    ('max_snapshot_gap_hours',     0,    NULL,          true),   -- 0: no pair is diffed
    ('max_carry_days',             0,    365,           true),
    ('near_floor_band',            0,    10,            false),
    ('raw_payload_retention_days', 1,    NULL,          true),
    ('ema_short_days',             1,    3650,          true),
    ('ema_long_days',              1,    3650,          true),
    ('days_to_plus_20pct_cap',     1,    NULL,          false),
    ('movers_min_floor',           0,    NULL,          false),
    ('movers_min_move',            0,    NULL,          false),
    ('movers_min_listings',        0,    NULL,          true),
    ('record_retention_days',      1,    NULL,          true)
) AS b (key, min_value, max_value, whole)
WHERE s.key = b.key;

-- A setting added later declares its bounds in the same INSERT (no default: forgetting them fails).
ALTER TABLE settings
    ALTER COLUMN min_value SET NOT NULL,
    ADD CONSTRAINT settings_value_in_bounds CHECK (
        value >= min_value AND (max_value IS NULL OR value <= max_value) AND (NOT whole OR value = trunc(value))
    );
