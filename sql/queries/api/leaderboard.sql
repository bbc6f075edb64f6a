-- One page of the leaderboard for a day, built as JSON by the database (the hottest uncached read).
-- Both orders are composed from a whitelist (service/api/leaderboard): the page's, over the tables,
-- and the same over the page's columns. Ranks are the stored default ranks of the scope (all games,
-- or the filtered game). The row shape is LeaderboardRow's.
WITH page AS (
    SELECT count(*) OVER () AS total,
           r.rank, r.rank_1d_ago, r.rank_7d_ago,
           p.id, p.slug, p.name, p.game, p.set_code, p.set_name, p.product_type, p.release_date, p.image_url,
           p.reprint_risk,
           m.day, m.floor_price, m.market_price, m.volume_usd, m.volume_7d, m.volume_30d, m.volume_ema_7d,
           m.units_sold, m.units_sold_7d, m.units_sold_30d, m.floor_change_pct_1d, m.floor_change_pct_7d,
           m.floor_change_pct_30d, m.visible_market_cap, m.liquidity_score, m.days_to_plus_20pct,
           m.expected_days_to_sell, m.active_listings, m.units_listed, m.momentum, m.sold_avg_30d,
           m.insufficient_history, m.low_liquidity, m.stale
    FROM product_metrics_daily m
    JOIN products p ON p.id = m.product_id
    LEFT JOIN product_ranks_daily r
      ON r.product_id = m.product_id AND r.day = m.day AND r.scope = coalesce(%(game)s, 'all')
    WHERE m.day = coalesce(%(day)s::date, (SELECT max(day) FROM product_metrics_daily))  -- default: the latest day
      AND p.active
      AND (%(game)s::text IS NULL OR p.game = %(game)s)
      AND (%(product_type)s::text IS NULL OR p.product_type = %(product_type)s)
      AND (%(release_year)s::integer IS NULL OR extract(year FROM p.release_date) = %(release_year)s)
      AND (%(min_price)s::numeric IS NULL OR m.floor_price >= %(min_price)s)
      AND (%(max_price)s::numeric IS NULL OR m.floor_price <= %(max_price)s)
      AND (%(q)s::text IS NULL OR p.name ILIKE %(q)s OR p.slug ILIKE %(q)s OR p.set_code ILIKE %(q)s)
    ORDER BY {order}
    LIMIT %(limit)s OFFSET %(offset)s
)
SELECT max(total) AS total, max(day) AS day, coalesce(json_agg(json_build_object(
           'rank', rank, 'rank_1d_ago', rank_1d_ago, 'rank_7d_ago', rank_7d_ago,
           'change_1d', rank_movement(rank, rank_1d_ago), 'change_7d', rank_movement(rank, rank_7d_ago),
           'product', json_build_object(
               'id', id, 'slug', slug, 'name', name, 'game', game, 'set_code', set_code, 'set_name', set_name,
               'product_type', product_type, 'release_date', release_date, 'image_url', image_url,
               'reprint_risk', reprint_risk),
           'metrics', json_build_object(
               'day', day, 'floor_price', floor_price, 'market_price', market_price, 'volume_24h', volume_usd,
               'volume_7d', volume_7d, 'volume_30d', volume_30d, 'volume_ema_7d', volume_ema_7d,
               'units_sold', units_sold, 'units_sold_7d', units_sold_7d, 'units_sold_30d', units_sold_30d,
               'floor_change_pct_1d', floor_change_pct_1d, 'floor_change_pct_7d', floor_change_pct_7d,
               'floor_change_pct_30d', floor_change_pct_30d, 'visible_market_cap', visible_market_cap,
               'liquidity_score', liquidity_score, 'liquidity_label', liquidity_label(liquidity_score),
               'days_to_plus_20pct', days_to_plus_20pct, 'expected_days_to_sell', expected_days_to_sell,
               'active_listings', active_listings, 'units_listed', units_listed, 'momentum', momentum,
               'sold_avg_30d', sold_avg_30d, 'insufficient_history', insufficient_history,
               'low_liquidity', low_liquidity, 'stale', stale)
       ) ORDER BY {page_order}), '[]')::text AS data
FROM page;
