UPDATE webhook_deliveries
SET attempts = attempts + 1, last_status = %(http_status)s, last_error = %(error)s, status = %(status)s,
    finished_at = CASE WHEN %(status)s = 'pending' THEN NULL ELSE now() END
WHERE id = %(id)s;
