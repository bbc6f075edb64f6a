SELECT id, notification_id, url, status, attempts, last_status, last_error, created_at, finished_at
FROM webhook_deliveries
WHERE user_id = %(user_id)s
ORDER BY id DESC
LIMIT %(limit)s;
