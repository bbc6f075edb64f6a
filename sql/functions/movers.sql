-- Movers (SPEC §5): the biggest gainers and losers by floor or market price over 1, 7 or 30 days,
-- ignoring noise: both ends present, the earlier price at least `movers_min_floor` dollars, an
-- absolute move of at least `movers_min_move` dollars, and `movers_min_listings` active listings today.
-- Deactivated products are left out.
--   SELECT * FROM movers(current_date, 'floor', 7, 10);
CREATE OR REPLACE FUNCTION movers(p_day date, p_metric text, p_days integer, p_limit integer DEFAULT 10)
RETURNS TABLE (direction text, place integer, product_id integer, price_before numeric, price_now numeric,
               change_usd numeric, change_pct double precision, active_listings integer)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_metric NOT IN ('floor', 'market') OR p_days NOT IN (1, 7, 30) THEN
        RAISE EXCEPTION 'movers: metric must be floor or market and days 1, 7 or 30 (got %, %)', p_metric, p_days
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
    WITH moves AS (
        SELECT now_.product_id,
               CASE p_metric WHEN 'floor' THEN before.floor_price ELSE before.market_price END AS price_before,
               CASE p_metric WHEN 'floor' THEN now_.floor_price ELSE now_.market_price END AS price_now,
               now_.active_listings
        FROM product_metrics_daily now_
        JOIN product_metrics_daily before ON before.product_id = now_.product_id AND before.day = p_day - p_days
        WHERE now_.day = p_day
          -- a deactivated box is hidden, as from the leaderboard (and its place goes to the next one)
          AND NOT EXISTS (SELECT 1 FROM products p WHERE p.id = now_.product_id AND NOT p.active)
    ), eligible AS (
        SELECT m.*, m.price_now - m.price_before AS change_usd,
               ((m.price_now - m.price_before) / m.price_before * 100)::double precision AS change_pct
        FROM moves m
        WHERE m.price_before IS NOT NULL AND m.price_now IS NOT NULL
          AND m.price_before >= setting('movers_min_floor')
          AND abs(m.price_now - m.price_before) >= setting('movers_min_move')
          AND m.active_listings >= setting('movers_min_listings')
    ), ranked AS (
        SELECT 'gainer'::text AS direction,
               row_number() OVER (ORDER BY e.change_pct DESC, e.product_id)::integer AS place, e.*
        FROM eligible e WHERE e.change_usd > 0
        UNION ALL
        SELECT 'loser', row_number() OVER (ORDER BY e.change_pct ASC, e.product_id)::integer, e.*
        FROM eligible e WHERE e.change_usd < 0
    )
    SELECT r.direction, r.place, r.product_id, r.price_before, r.price_now, r.change_usd, r.change_pct,
           r.active_listings
    FROM ranked r
    WHERE r.place <= p_limit
    ORDER BY r.direction, r.place;
END;
$$;
