SELECT max(day) AS day FROM product_metrics_daily;
