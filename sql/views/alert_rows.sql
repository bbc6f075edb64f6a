-- Alerts as the API shows them: the threshold split into a price or a percentage by kind.
CREATE OR REPLACE VIEW alert_rows AS
SELECT a.id, a.user_id, a.kind,
       CASE WHEN a.kind IN ('floor_below', 'floor_above', 'listing_below') THEN a.threshold END AS price,
       CASE WHEN a.kind = 'floor_change' THEN a.threshold END AS change_pct,
       a.window_days, a.cooldown_hours, a.active, a.created_at, a.last_fired_at,
       p.id AS product_id, p.slug, p.name
FROM alerts a
JOIN products p ON p.id = a.product_id;
