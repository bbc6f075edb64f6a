-- Alerts, their firings (the notifications inbox) and webhook deliveries (SPEC §6).
-- Evaluation is SQL (sql/functions/alerts.sql); delivery is an RQ job (jobs/alerts.py).

CREATE TABLE alerts (
    id             integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id        integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    product_id     integer NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    kind           text NOT NULL CHECK (kind IN ('floor_below', 'floor_above', 'floor_change', 'volume_spike', 'listing_below')),
    -- a price in USD for floor_below / floor_above / listing_below, a percentage for floor_change
    threshold      numeric(12, 2) CHECK (threshold > 0),
    window_days    smallint CHECK (window_days IN (1, 7)),          -- floor_change only
    cooldown_hours integer NOT NULL DEFAULT 24 CHECK (cooldown_hours BETWEEN 1 AND 720),
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_fired_at  timestamptz,
    CHECK ((kind = 'volume_spike') = (threshold IS NULL)),
    CHECK ((kind = 'floor_change') = (window_days IS NOT NULL))
);
CREATE INDEX alerts_user ON alerts (user_id, id);
CREATE INDEX alerts_product ON alerts (product_id) WHERE active;

CREATE TABLE notifications (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    alert_id   integer REFERENCES alerts (id) ON DELETE SET NULL,
    product_id integer NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    kind       text NOT NULL,
    fired_at   timestamptz NOT NULL,
    message    text NOT NULL,
    details    jsonb NOT NULL,            -- what was observed against what was asked
    read_at    timestamptz
);
CREATE INDEX notifications_user ON notifications (user_id, id DESC);

-- One webhook per user; the secret signs every delivery (HMAC-SHA256) and is shown once.
CREATE TABLE webhooks (
    user_id    integer PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    url        text NOT NULL CHECK (length(url) <= 2000),
    secret     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per notification to POST. `pending` rows are (re-)enqueued by jobs/alerts.py; the
-- delivery job locks its row, so a duplicated job never sends twice.
CREATE TABLE webhook_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notification_id bigint NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    user_id         integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url             text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    last_status     integer,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    enqueued_at     timestamptz,
    finished_at     timestamptz
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (id) WHERE status = 'pending';
