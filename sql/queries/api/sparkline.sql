SELECT day, floor_price, market_price, volume_usd, units_sold
FROM product_metrics_daily
WHERE product_id = %(product_id)s AND day > %(to)s::date - %(days)s AND day <= %(to)s
ORDER BY day;
