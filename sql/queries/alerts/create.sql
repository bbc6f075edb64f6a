-- Refused (no row) when the user already has %(max_alerts)s alerts. The user's row lock makes the
-- count and the insert one step, so parallel requests cannot overshoot the limit.
WITH owner AS (
    SELECT id FROM users WHERE id = %(user_id)s FOR UPDATE
)
INSERT INTO alerts (user_id, product_id, kind, threshold, window_days, cooldown_hours, active)
SELECT owner.id, %(product_id)s, %(kind)s, %(threshold)s, %(window_days)s, %(cooldown_hours)s, %(active)s
FROM owner
WHERE (SELECT count(*) FROM alerts WHERE user_id = %(user_id)s) < %(max_alerts)s
RETURNING id;
