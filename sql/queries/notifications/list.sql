SELECT n.id, n.alert_id, n.kind, n.fired_at, n.message, n.details, n.read_at,
       p.id AS product_id, p.slug, p.name
FROM notifications n
JOIN products p ON p.id = n.product_id
WHERE n.user_id = %(user_id)s AND (NOT %(unread_only)s OR n.read_at IS NULL)
ORDER BY n.id DESC
LIMIT %(limit)s OFFSET %(offset)s;
