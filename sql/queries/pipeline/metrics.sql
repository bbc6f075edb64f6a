SELECT compute_product_metrics(%(from)s, %(to)s) AS rows;
