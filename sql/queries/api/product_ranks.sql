SELECT scope, rank, rank_1d_ago, rank_7d_ago
FROM product_ranks_daily
WHERE product_id = %(product_id)s AND day = %(day)s
ORDER BY scope = 'all' DESC, scope;
