-- The market index per day (SPEC §5), over all games (scope 'all') and per game.
--
-- basket_value_usd: the cost of one of each priced box. index_value: chain-linked and equal-weight,
-- 1000 on the scope's first day, then each day multiplied by the mean of floor_d / floor_{d-1} over
-- the products priced on both days (new products do not jump it). Fear and greed averages four parts,
-- each clamped to [0, 100], 50 meaning "as usual":
--   price     50 + 10 x the mean 1-day floor change in %
--   volume    50 x today's volume / its 7-day EMA
--   supply    50 + 50 x (units sold - units added) / (units sold + units added)
--   velocity  50 x units sold today / their mean over the last 30 days
CREATE OR REPLACE FUNCTION fear_greed_label(score double precision) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN score <= 20 THEN 'Extreme Fear' WHEN score <= 40 THEN 'Fear' WHEN score <= 60 THEN 'Neutral'
                WHEN score <= 80 THEN 'Greed' ELSE 'Extreme Greed' END
$$;

CREATE OR REPLACE FUNCTION compute_market_index(p_from date, p_to date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_start   date;
    v_a7      double precision := 2.0 / (setting('ema_short_days') + 1);
    v_min_floor numeric := setting('movers_min_floor');
    v_min_move  numeric := setting('movers_min_move');
    v_min_listings integer := setting('movers_min_listings')::integer;
    v_written integer;
BEGIN
    -- Resume after the last stored day (the chain needs every day), or start at the first metrics day.
    v_start := least(p_from, coalesce((SELECT max(day) + 1 FROM market_index_daily WHERE day < p_from),
                                      (SELECT min(day) FROM product_metrics_daily)));
    IF v_start IS NULL THEN
        RETURN 0;
    END IF;
    DELETE FROM market_index_daily WHERE day >= v_start AND day <= p_to;

    INSERT INTO market_index_daily (
        day, scope, products_priced, basket_value_usd, index_value, index_change_pct_1d, index_change_pct_7d,
        index_change_pct_30d, advancers, decliners, unchanged, volume_usd, units_sold, active_listings, units_added,
        volume_ema_7d, volume_change_pct_7d, top_gainer_id, top_gainer_pct, top_loser_id, top_loser_pct,
        sentiment, fear_greed, fear_greed_label)
    WITH scoped AS (
        SELECT m.*, s.scope,
               -- movers' noise rule: both ends present, earlier floor >= $5, move >= $1, >= 3 listings
               prev.floor_price >= v_min_floor AND abs(m.floor_price - prev.floor_price) >= v_min_move
                   AND m.active_listings >= v_min_listings AS mover
        FROM product_metrics_daily m
        JOIN products p ON p.id = m.product_id
        LEFT JOIN product_metrics_daily prev ON prev.product_id = m.product_id AND prev.day = m.day - 1
        CROSS JOIN LATERAL (VALUES ('all'), (p.game)) AS s (scope)
        WHERE m.day BETWEEN v_start AND p_to
    ), fresh AS (
        SELECT day, scope,
               count(floor_price)::integer AS products_priced,
               sum(floor_price) AS basket_value_usd,
               avg(1 + floor_change_pct_1d / 100) AS mean_ratio,
               avg(floor_change_pct_1d) AS mean_change_pct,
               count(*) FILTER (WHERE floor_change_pct_1d > 0)::integer AS advancers,
               count(*) FILTER (WHERE floor_change_pct_1d < 0)::integer AS decliners,
               count(*) FILTER (WHERE floor_change_pct_1d = 0)::integer AS unchanged,
               sum(volume_usd) AS volume_usd, sum(units_sold)::integer AS units_sold,
               coalesce(sum(active_listings), 0)::integer AS active_listings, sum(units_added)::integer AS units_added,
               (array_agg(product_id ORDER BY floor_change_pct_1d DESC, product_id) FILTER (WHERE mover))[1] AS top_gainer_id,
               max(floor_change_pct_1d) FILTER (WHERE mover) AS top_gainer_pct,
               (array_agg(product_id ORDER BY floor_change_pct_1d ASC, product_id) FILTER (WHERE mover))[1] AS top_loser_id,
               min(floor_change_pct_1d) FILTER (WHERE mover) AS top_loser_pct
        FROM scoped
        GROUP BY day, scope
    ), series AS (
        -- Stored days the windows look back on (30 days at most), then the fresh days.
        SELECT i.day, i.scope, false AS is_fresh, i.products_priced, i.basket_value_usd, NULL::double precision AS mean_ratio,
               NULL::double precision AS mean_change_pct, i.advancers, i.decliners, i.unchanged, i.volume_usd,
               i.units_sold, i.active_listings, i.units_added, i.top_gainer_id, i.top_gainer_pct, i.top_loser_id,
               i.top_loser_pct, i.index_value, i.volume_ema_7d
        FROM market_index_daily i
        WHERE i.day >= v_start - 30 AND i.day < v_start
        UNION ALL
        SELECT f.day, f.scope, true, f.products_priced, f.basket_value_usd, f.mean_ratio, f.mean_change_pct,
               f.advancers, f.decliners, f.unchanged, f.volume_usd, f.units_sold, f.active_listings, f.units_added,
               f.top_gainer_id, f.top_gainer_pct, f.top_loser_id, f.top_loser_pct, NULL, NULL
        FROM fresh f
    ), seeds AS (
        SELECT scope, index_value, volume_ema_7d FROM market_index_daily WHERE day = v_start - 1
    ), chained AS (
        SELECT s.*,
               -- A scope's first day has no product priced the day before: its ratio is 1.
               coalesce(seeds.index_value, 1000)
                   * exp(sum(ln(coalesce(s.mean_ratio, 1))) FILTER (WHERE s.is_fresh) OVER running) AS chained_index,
               ema(s.volume_usd::double precision, v_a7, seeds.volume_ema_7d) FILTER (WHERE s.is_fresh) OVER running
                   AS chained_volume_ema
        FROM series s
        LEFT JOIN seeds USING (scope)
        WINDOW running AS (PARTITION BY s.scope ORDER BY s.day ROWS UNBOUNDED PRECEDING)
    ), windows AS (
        SELECT c.*,
               coalesce(c.index_value, c.chained_index) AS idx,
               coalesce(c.volume_ema_7d, c.chained_volume_ema) AS vol_ema,
               sum(c.volume_usd) OVER (by_day ROWS 6 PRECEDING) AS volume_7d,
               sum(c.volume_usd) OVER (by_day ROWS BETWEEN 13 PRECEDING AND 7 PRECEDING) AS volume_prior_7d,
               count(*) OVER (by_day ROWS 13 PRECEDING) AS days_14,
               avg(c.units_sold) OVER (by_day ROWS BETWEEN 30 PRECEDING AND 1 PRECEDING) AS units_sold_avg_30d
        FROM chained c
        WINDOW by_day AS (PARTITION BY c.scope ORDER BY c.day)
    ), changes AS (
        SELECT w.*,
               (w.idx / lag(w.idx, 1) OVER by_day - 1) * 100 AS change_1d,
               (w.idx / lag(w.idx, 7) OVER by_day - 1) * 100 AS change_7d,
               (w.idx / lag(w.idx, 30) OVER by_day - 1) * 100 AS change_30d,
               CASE WHEN w.days_14 = 14 THEN (w.volume_7d - w.volume_prior_7d) / nullif(w.volume_prior_7d, 0) * 100 END
                   AS volume_change_7d
        FROM windows w
        WINDOW by_day AS (PARTITION BY w.scope ORDER BY w.day)
    ), scored AS (
        SELECT c.*,
               (clamp(50 + 10 * coalesce(c.mean_change_pct, 0), 0, 100)
                + clamp(coalesce(50 * c.volume_usd / nullif(c.vol_ema, 0), 50), 0, 100)
                + clamp(50 + 50 * coalesce((c.units_sold - c.units_added)::double precision
                                           / nullif(c.units_sold + c.units_added, 0), 0), 0, 100)
                + clamp(coalesce(50 * c.units_sold / nullif(c.units_sold_avg_30d, 0), 50), 0, 100)) / 4 AS fear_greed
        FROM changes c
        WHERE c.is_fresh
    )
    SELECT day, scope, products_priced, basket_value_usd, idx, change_1d, change_7d, change_30d,
           advancers, decliners, unchanged, volume_usd, units_sold, active_listings, units_added,
           vol_ema, volume_change_7d, top_gainer_id, top_gainer_pct, top_loser_id, top_loser_pct,
           CASE WHEN change_7d > 2 AND volume_change_7d > 0 THEN 'BULLISH'
                WHEN change_7d < -2 AND volume_change_7d < 0 THEN 'BEARISH'
                ELSE 'NEUTRAL' END,
           fear_greed, fear_greed_label(fear_greed)
    FROM scored;
    GET DIAGNOSTICS v_written = ROW_COUNT;
    RETURN v_written;
END;
$$;
