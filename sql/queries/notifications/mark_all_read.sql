WITH marked AS (
    UPDATE notifications SET read_at = now() WHERE user_id = %(user_id)s AND read_at IS NULL RETURNING 1
)
SELECT count(*) AS marked FROM marked;
