SELECT max(sold_at) AS last_sold_at FROM sales WHERE marketplace = %(marketplace)s AND product_id = %(product_id)s;
