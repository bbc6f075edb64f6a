UPDATE emails
SET attempts = attempts + 1, last_error = %(error)s, status = %(status)s,
    finished_at = CASE WHEN %(status)s = 'pending' THEN NULL ELSE now() END
WHERE id = %(id)s;
