-- Alert evaluation (SPEC §6). Two entry points feed one firing step:
--   evaluate_metric_alerts(day)    after the pipeline: floor below/above, floor change, volume spike
--   evaluate_listing_alerts(...)   at ingest time, after listing-change inference: new listing below
-- Firing sets last_fired_at under the row lock of an UPDATE whose WHERE re-checks the cooldown, so
-- two evaluations running at once fire an alert once. Each firing becomes a notification, plus a
-- pending webhook delivery when the user has a webhook (jobs/webhooks.py sends those) and a pending
-- e-mail when the user verified their address and opted in to alert e-mails (jobs/mail.py).

-- Whether an alert may fire at p_now: never fired, or its cooldown has passed (inlined by the planner).
CREATE OR REPLACE FUNCTION alert_cooled_down(p_last_fired timestamptz, p_cooldown_hours integer, p_now timestamptz)
RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_last_fired IS NULL OR p_last_fired <= p_now - make_interval(hours => p_cooldown_hours)
$$;

-- The firing step: reads pg_temp.due_alerts (alert_id, message, details), returns counts
-- (`deliveries`: webhook deliveries and e-mails, the work handed to RQ).
CREATE OR REPLACE FUNCTION fire_due_alerts(p_now timestamptz)
RETURNS TABLE (fired integer, deliveries integer)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    WITH fired_alerts AS (
        UPDATE alerts a SET last_fired_at = p_now
        FROM pg_temp.due_alerts d
        WHERE a.id = d.alert_id AND a.active
          AND alert_cooled_down(a.last_fired_at, a.cooldown_hours, p_now)
        RETURNING a.id, a.user_id, a.product_id, a.kind, d.message, d.details
    ), inbox AS (
        INSERT INTO notifications (user_id, alert_id, product_id, kind, fired_at, message, details)
        SELECT user_id, id, product_id, kind, p_now, message, details FROM fired_alerts
        RETURNING id, user_id
    ), queued AS (
        INSERT INTO webhook_deliveries (notification_id, user_id, url)
        SELECT i.id, i.user_id, w.url FROM inbox i JOIN webhooks w USING (user_id)
        RETURNING 1
    ), mailed AS (
        INSERT INTO emails (user_id, kind, notification_id)
        SELECT i.user_id, 'alert', i.id FROM inbox i JOIN users u ON u.id = i.user_id
        WHERE u.alert_emails AND u.email_verified_at IS NOT NULL
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM inbox)::integer,
           ((SELECT count(*) FROM queued) + (SELECT count(*) FROM mailed))::integer;
END;
$$;

CREATE OR REPLACE FUNCTION usd(p numeric) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT '$' || to_char(p, 'FM999,999,990.00') $$;

-- Alerts on the daily metrics of p_day (the day the pipeline just computed).
-- volume_spike: units sold on the day ≥ 2 × the mean of the 7 days before it (units_sold_sma_7d of
-- the previous day), and at least one unit; products with under 7 days of history never spike.
CREATE OR REPLACE FUNCTION evaluate_metric_alerts(p_day date, p_now timestamptz DEFAULT now())
RETURNS TABLE (fired integer, deliveries integer)
LANGUAGE plpgsql AS $$
BEGIN
    DROP TABLE IF EXISTS pg_temp.due_alerts;
    CREATE TEMP TABLE due_alerts ON COMMIT DROP AS
    SELECT a.id AS alert_id,
           p.name || ': ' || CASE a.kind
               WHEN 'floor_below' THEN format('floor %s is below %s', usd(m.floor_price), usd(a.threshold))
               WHEN 'floor_above' THEN format('floor %s is above %s', usd(m.floor_price), usd(a.threshold))
               WHEN 'floor_change' THEN format('floor moved %s %% over %s day(s) (alert at ±%s %%)',
                   to_char(change.pct, 'FMS990.0'), a.window_days, a.threshold)
               ELSE format('%s units sold on %s, %s× the 7-day average of %s', m.units_sold, p_day,
                   to_char(m.units_sold / prev.units_sold_sma_7d, 'FM990.0'), to_char(prev.units_sold_sma_7d, 'FM990.0'))
           END AS message,
           jsonb_strip_nulls(jsonb_build_object(
               'day', p_day, 'floor_price', m.floor_price, 'threshold', a.threshold, 'window_days', a.window_days,
               'change_pct', round(change.pct::numeric, 2), 'units_sold', m.units_sold,
               'units_sold_avg_7d', round(prev.units_sold_sma_7d::numeric, 2)
           )) AS details
    FROM alerts a
    JOIN products p ON p.id = a.product_id
    JOIN product_metrics_daily m ON m.product_id = a.product_id AND m.day = p_day
    LEFT JOIN product_metrics_daily prev ON prev.product_id = a.product_id AND prev.day = p_day - 1
    CROSS JOIN LATERAL (
        SELECT CASE a.window_days WHEN 1 THEN m.floor_change_pct_1d WHEN 7 THEN m.floor_change_pct_7d END AS pct
    ) change
    WHERE a.active AND a.kind <> 'listing_below'
      AND alert_cooled_down(a.last_fired_at, a.cooldown_hours, p_now)
      AND CASE a.kind
          WHEN 'floor_below' THEN m.floor_price < a.threshold
          WHEN 'floor_above' THEN m.floor_price > a.threshold
          WHEN 'floor_change' THEN abs(change.pct) > a.threshold
          WHEN 'volume_spike' THEN m.units_sold > 0 AND m.units_sold >= 2 * prev.units_sold_sma_7d
      END;
    RETURN QUERY SELECT * FROM fire_due_alerts(p_now);
END;
$$;

-- New listings below a price among the listing events of the given products observed since
-- p_since: a listing that appeared below the price, or whose price was cut below it. Only events
-- after the alert was created, and after its last firing, count.
CREATE OR REPLACE FUNCTION evaluate_listing_alerts(
    p_marketplace text, p_product_ids integer[], p_since timestamptz, p_now timestamptz DEFAULT now()
)
RETURNS TABLE (fired integer, deliveries integer)
LANGUAGE plpgsql AS $$
BEGIN
    DROP TABLE IF EXISTS pg_temp.due_alerts;
    CREATE TEMP TABLE due_alerts ON COMMIT DROP AS
    SELECT a.id AS alert_id,
           p.name || ': ' || format('new listing at %s on %s (below %s)', usd(e.unit_price), e.marketplace,
                                    usd(a.threshold)) AS message,
           jsonb_build_object('marketplace', e.marketplace, 'listing_id', e.listing_id, 'unit_price', e.unit_price,
                              'observed_at', e.observed_at, 'threshold', a.threshold) AS details
    FROM alerts a
    JOIN products p ON p.id = a.product_id
    CROSS JOIN LATERAL (
        SELECT e.*
        FROM listing_events e
        WHERE e.product_id = a.product_id AND e.marketplace = p_marketplace
          AND e.observed_at >= p_since AND e.observed_at > greatest(a.created_at, a.last_fired_at)
          AND e.unit_price < a.threshold
          AND (e.event = 'LISTED' OR (e.event = 'PRICE_CHANGED' AND e.prev_unit_price >= a.threshold))
        ORDER BY e.unit_price, e.observed_at, e.listing_id
        LIMIT 1
    ) e
    WHERE a.active AND a.kind = 'listing_below' AND a.product_id = ANY (p_product_ids)
      AND alert_cooled_down(a.last_fired_at, a.cooldown_hours, p_now);
    RETURN QUERY SELECT * FROM fire_due_alerts(p_now);
END;
$$;
