-- The user's watchlist with the same metrics as the leaderboard (the latest computed day); one item
-- of it when a product id is given (what adding a product answers).
SELECT count(*) OVER () AS total, w.added_at,
       r.rank, r.rank_1d_ago, r.rank_7d_ago,
       rank_movement(r.rank, r.rank_1d_ago) AS change_1d, rank_movement(r.rank, r.rank_7d_ago) AS change_7d,
       p.id, p.slug, p.name, p.game, p.set_code, p.set_name, p.product_type, p.release_date, p.image_url,
       p.reprint_risk,
       m.*
FROM watchlist_items w
JOIN products p ON p.id = w.product_id
LEFT JOIN metric_rows m ON m.product_id = p.id AND m.day = %(day)s
LEFT JOIN product_ranks_daily r ON r.product_id = p.id AND r.day = %(day)s AND r.scope = 'all'
WHERE w.user_id = %(user_id)s AND (%(product_id)s::integer IS NULL OR w.product_id = %(product_id)s)
ORDER BY w.added_at DESC, p.id
LIMIT %(limit)s OFFSET %(offset)s;
