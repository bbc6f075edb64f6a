-- A product's metrics for a day (default: its latest day), as the API shows them.
SELECT m.*
FROM metric_rows m
WHERE m.product_id = %(product_id)s AND (%(day)s::date IS NULL OR m.day = %(day)s)
ORDER BY m.day DESC
LIMIT 1;
