UPDATE notifications n
SET read_at = coalesce(n.read_at, now())
FROM products p
WHERE n.id = %(id)s AND n.user_id = %(user_id)s AND p.id = n.product_id
RETURNING n.id, n.alert_id, n.kind, n.fired_at, n.message, n.details, n.read_at,
          p.id AS product_id, p.slug, p.name;
