-- The user's watchlist with the same metrics as the leaderboard (the latest computed day).
SELECT count(*) OVER () AS total, w.added_at,
       r.rank, r.rank_1d_ago, r.rank_7d_ago,
       p.id, p.slug, p.name, p.game, p.set_code, p.set_name, p.product_type, p.release_date, p.image_url,
       p.reprint_risk,
       m.day, m.floor_price, m.market_price, m.volume_usd AS volume_24h, m.volume_7d, m.volume_30d,
       m.volume_ema_7d, m.units_sold, m.units_sold_7d, m.units_sold_30d, m.floor_change_pct_1d,
       m.floor_change_pct_7d, m.floor_change_pct_30d, m.visible_market_cap, m.liquidity_score,
       m.days_to_plus_20pct, m.expected_days_to_sell, m.active_listings, m.units_listed, m.momentum,
       m.sold_avg_30d, m.insufficient_history, m.low_liquidity, m.stale
FROM watchlist_items w
JOIN products p ON p.id = w.product_id
LEFT JOIN product_metrics_daily m ON m.product_id = p.id AND m.day = %(day)s
LEFT JOIN product_ranks_daily r ON r.product_id = p.id AND r.day = %(day)s AND r.scope = 'all'
WHERE w.user_id = %(user_id)s
ORDER BY w.added_at DESC, p.id
LIMIT %(limit)s OFFSET %(offset)s;
