SELECT m.*, m.volume_usd AS volume_24h
FROM product_metrics_daily m
WHERE m.product_id = %(product_id)s AND (%(day)s::date IS NULL OR m.day = %(day)s)
ORDER BY m.day DESC
LIMIT 1;
