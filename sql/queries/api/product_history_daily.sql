-- Daily or weekly history. The period expression, the columns and the grouping are composed in
-- service/api/product_data/routes.py from a whitelist of metric names. Weekly rows hold the week's
-- last day for levels and indicators, and the week's sum for flows.
SELECT {bucket} AS period, {columns}
FROM product_metrics_daily m
WHERE m.product_id = %(product_id)s AND m.day BETWEEN %(from)s AND %(to)s
{group}
ORDER BY 1;
