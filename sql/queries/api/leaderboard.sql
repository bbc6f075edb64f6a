-- One page of the leaderboard for a day, built as JSON by the database (the hottest uncached read).
-- Both orders are composed from a whitelist (service/api/leaderboard): the page's, over the tables,
-- and the same over the page's columns. The filters are the request's own (service/api/common.py,
-- FILTERS): a statement of fixed shape, prepared and planned once (service/core/db.py). Ranks are the stored default ranks of the scope (all games,
-- or the filtered game). The row shape is LeaderboardRow's; the metrics object is the catalogue's
-- summary metrics (filled in by service/api/leaderboard), columns of the view metric_rows.
-- The page is chosen first, over only the columns that filter and order it; then its rows alone are
-- read in full. Sorting the day's rows with every column (and the labels computed for all of them)
-- cost more than fetching the page's rows again by primary key.
WITH page AS (
    SELECT count(*) OVER () AS total, m.product_id, m.day, r.rank, r.rank_1d_ago, r.rank_7d_ago
    FROM metric_rows m
    JOIN products p ON p.id = m.product_id
    LEFT JOIN product_ranks_daily r
      ON r.product_id = m.product_id AND r.day = m.day AND r.scope = coalesce(%(game)s, 'all')
    WHERE m.day = coalesce(%(day)s::date, (SELECT max(day) FROM product_metrics_daily))  -- default: the latest day
      AND p.active {filters}
    ORDER BY {order}
    LIMIT %(limit)s OFFSET %(offset)s
)
SELECT max(total) AS total, max(day) AS day, coalesce(json_agg(json_build_object(
           'rank', rank, 'rank_1d_ago', rank_1d_ago, 'rank_7d_ago', rank_7d_ago,
           'change_1d', rank_movement(rank, rank_1d_ago), 'change_7d', rank_movement(rank, rank_7d_ago),
           'product', json_build_object(
               'id', p.id, 'slug', p.slug, 'name', p.name, 'game', p.game, 'set_code', p.set_code,
               'set_name', p.set_name, 'product_type', p.product_type, 'release_date', p.release_date,
               'image_url', p.image_url, 'reprint_risk', p.reprint_risk),
           'metrics', json_build_object({metrics})
       ) ORDER BY {page_order}), '[]')::text AS data
FROM page
JOIN metric_rows m USING (product_id, day)
JOIN products p ON p.id = product_id;
