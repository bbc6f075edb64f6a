-- Leaderboard ranks per day (SPEC §5), overall (scope 'all') and per game: volume_ema_7d desc, then
-- sold_avg_30d desc, days_to_plus_20pct asc, reprint risk (LOW first); competition ranking, so
-- products equal on every key share a rank and the next rank is skipped. The product id only orders
-- equal products for display. The ranks of 1 and 7 days before are stored beside each rank.
CREATE OR REPLACE FUNCTION reprint_risk_order(risk text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE risk WHEN 'LOW' THEN 0 WHEN 'UNCONFIRMED' THEN 1 WHEN 'ELEVATED' THEN 2 ELSE 3 END
$$;

CREATE OR REPLACE FUNCTION compute_ranks(p_from date, p_to date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_written integer;
BEGIN
    DELETE FROM product_ranks_daily WHERE day BETWEEN p_from AND p_to;

    INSERT INTO product_ranks_daily (day, scope, product_id, rank)
    WITH ranked AS (
        SELECT m.day, p.game, m.product_id, m.volume_ema_7d, m.sold_avg_30d, m.days_to_plus_20pct,
               reprint_risk_order(p.reprint_risk) AS risk
        FROM product_metrics_daily m
        JOIN products p ON p.id = m.product_id
        WHERE m.day BETWEEN p_from AND p_to
    )
    SELECT day, 'all', product_id,
           rank() OVER (PARTITION BY day
                        ORDER BY volume_ema_7d DESC NULLS LAST, sold_avg_30d DESC NULLS LAST,
                                 days_to_plus_20pct ASC NULLS LAST, risk)
    FROM ranked
    UNION ALL
    SELECT day, game, product_id,
           rank() OVER (PARTITION BY day, game
                        ORDER BY volume_ema_7d DESC NULLS LAST, sold_avg_30d DESC NULLS LAST,
                                 days_to_plus_20pct ASC NULLS LAST, risk)
    FROM ranked;
    GET DIAGNOSTICS v_written = ROW_COUNT;

    -- Movement: the window's days, and the 7 days after it, which look back into the window.
    UPDATE product_ranks_daily r
    SET rank_1d_ago = prev.rank_1d_ago, rank_7d_ago = prev.rank_7d_ago
    FROM (
        SELECT c.scope, c.product_id, c.day, p1.rank AS rank_1d_ago, p7.rank AS rank_7d_ago
        FROM product_ranks_daily c
        LEFT JOIN product_ranks_daily p1
          ON p1.scope = c.scope AND p1.product_id = c.product_id AND p1.day = c.day - 1
         AND p1.day BETWEEN p_from - 1 AND p_to + 6
        LEFT JOIN product_ranks_daily p7
          ON p7.scope = c.scope AND p7.product_id = c.product_id AND p7.day = c.day - 7
         AND p7.day BETWEEN p_from - 7 AND p_to
        WHERE c.day BETWEEN p_from AND p_to + 7
    ) prev
    WHERE r.scope = prev.scope AND r.product_id = prev.product_id AND r.day = prev.day;
    RETURN v_written;
END;
$$;
