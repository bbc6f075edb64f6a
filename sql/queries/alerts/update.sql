UPDATE alerts
SET threshold      = coalesce(%(threshold)s, threshold),
    window_days    = coalesce(%(window_days)s, window_days),
    cooldown_hours = coalesce(%(cooldown_hours)s, cooldown_hours),
    active         = coalesce(%(active)s, active)
WHERE id = %(id)s AND user_id = %(user_id)s
RETURNING id;
