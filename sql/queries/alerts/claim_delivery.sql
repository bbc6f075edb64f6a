-- Lock a pending delivery for the length of one attempt: a duplicate job skips it.
SELECT d.id, d.url, d.attempts, w.secret,
       n.id AS notification_id, n.alert_id, n.kind, n.fired_at, n.message, n.details,
       p.id AS product_id, p.slug, p.name
FROM webhook_deliveries d
JOIN notifications n ON n.id = d.notification_id
JOIN products p ON p.id = n.product_id
LEFT JOIN webhooks w ON w.user_id = d.user_id
WHERE d.id = %(id)s AND d.status = 'pending'
FOR UPDATE OF d SKIP LOCKED;
