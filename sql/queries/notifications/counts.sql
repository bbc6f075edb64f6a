SELECT count(*) FILTER (WHERE NOT %(unread_only)s OR read_at IS NULL) AS total,
       count(*) FILTER (WHERE read_at IS NULL) AS unread
FROM notifications
WHERE user_id = %(user_id)s;
