-- Lock a pending e-mail for the length of one attempt: a duplicate job skips it, and once it is
-- `sent` no job sends it again. For an alert, what fired; for everyone, where it goes.
SELECT e.id, e.kind, e.attempts, e.user_id, u.email, u.email_verified_at, u.alert_emails,
       n.id AS notification_id, n.kind AS alert_kind, n.fired_at, n.message, n.details,
       p.slug, p.name AS product_name
FROM emails e
JOIN users u ON u.id = e.user_id
LEFT JOIN notifications n ON n.id = e.notification_id
LEFT JOIN products p ON p.id = n.product_id
WHERE e.id = %(id)s AND e.status = 'pending'
FOR UPDATE OF e SKIP LOCKED;
