-- Value of the holdings held on each day (acquired on or before it) at that day's floor, else
-- market price; days where a held product has no price count it at cost (priced_all tells).
SELECT d.day::date AS day,
       sum(h.quantity * h.unit_cost) AS cost_basis,
       sum(h.quantity * coalesce(m.floor_price, m.market_price, h.unit_cost)) AS value,
       bool_and(coalesce(m.floor_price, m.market_price) IS NOT NULL) AS priced_all
FROM generate_series(%(from)s::date, %(to)s::date, interval '1 day') d (day)
JOIN holdings h ON h.user_id = %(user_id)s AND h.acquired_on <= d.day::date
LEFT JOIN product_metrics_daily m ON m.product_id = h.product_id AND m.day = d.day::date
GROUP BY d.day
ORDER BY d.day;
