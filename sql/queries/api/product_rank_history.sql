SELECT day, rank, rank_1d_ago, rank_7d_ago
FROM product_ranks_daily
WHERE product_id = %(product_id)s AND scope = %(scope)s AND day BETWEEN %(from)s AND %(to)s
ORDER BY day;
