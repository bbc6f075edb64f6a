-- Leaderboard ranks per day (SPEC §5), overall (scope 'all') and per game: volume_ema_7d desc, then
-- sold_avg_30d desc, days_to_plus_20pct asc, reprint risk (LOW first); competition ranking, so
-- products equal on every key share a rank and the next rank is skipped. The product id only orders
-- equal products for display. The ranks of 1 and 7 days before are stored beside each rank.
-- Only active products are ranked: the leaderboard shows only them, so its ranks have no gaps. A
-- product's (de)activation asks for the latest day to be ranked again (service/api/catalog_admin);
-- older days keep the ranks they were given until they are recomputed.
CREATE OR REPLACE FUNCTION reprint_risk_order(risk text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE risk WHEN 'LOW' THEN 0 WHEN 'UNCONFIRMED' THEN 1 WHEN 'ELEVATED' THEN 2 ELSE 3 END
$$;

CREATE OR REPLACE FUNCTION compute_ranks(p_from date, p_to date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_written integer;
BEGIN
    DROP TABLE IF EXISTS pg_temp.fresh_ranks;
    CREATE TEMP TABLE fresh_ranks ON COMMIT DROP AS
    WITH ranked AS (
        SELECT m.day, p.game, m.product_id, m.volume_ema_7d, m.sold_avg_30d, m.days_to_plus_20pct,
               reprint_risk_order(p.reprint_risk) AS risk
        FROM product_metrics_daily m
        JOIN products p ON p.id = m.product_id
        WHERE m.day BETWEEN p_from AND p_to AND p.active
    )
    SELECT day, 'all'::text AS scope, product_id,
           rank() OVER (PARTITION BY day
                        ORDER BY volume_ema_7d DESC NULLS LAST, sold_avg_30d DESC NULLS LAST,
                                 days_to_plus_20pct ASC NULLS LAST, risk)::integer AS rank
    FROM ranked
    UNION ALL
    SELECT day, game, product_id,
           rank() OVER (PARTITION BY day, game
                        ORDER BY volume_ema_7d DESC NULLS LAST, sold_avg_30d DESC NULLS LAST,
                                 days_to_plus_20pct ASC NULLS LAST, risk)::integer
    FROM ranked;
    ANALYZE fresh_ranks;

    DELETE FROM product_ranks_daily WHERE day BETWEEN p_from AND p_to;

    -- Movement: the rank a day and a week before, from this window or from the stored days before it.
    -- The shifted days are plain columns, so the joins are on equal columns (hash joins).
    DROP TABLE IF EXISTS pg_temp.earlier_ranks;
    CREATE TEMP TABLE earlier_ranks ON COMMIT DROP AS
    SELECT scope, product_id, rank, day + 1 AS day_after, day + 7 AS week_after
    FROM (
        SELECT day, scope, product_id, rank FROM fresh_ranks
        UNION ALL
        SELECT day, scope, product_id, rank FROM product_ranks_daily WHERE day BETWEEN p_from - 7 AND p_from - 1
    ) r;
    ANALYZE earlier_ranks;

    INSERT INTO product_ranks_daily (day, scope, product_id, rank, rank_1d_ago, rank_7d_ago)
    SELECT f.day, f.scope, f.product_id, f.rank, d1.rank, d7.rank
    FROM fresh_ranks f
    LEFT JOIN earlier_ranks d1 ON d1.scope = f.scope AND d1.product_id = f.product_id AND d1.day_after = f.day
    LEFT JOIN earlier_ranks d7 ON d7.scope = f.scope AND d7.product_id = f.product_id AND d7.week_after = f.day;
    GET DIAGNOSTICS v_written = ROW_COUNT;

    -- Stored days in the week after the window look back into it: keep their movement in step.
    UPDATE product_ranks_daily r
    SET rank_1d_ago = CASE WHEN r.day - 1 <= p_to THEN n.rank_1d ELSE r.rank_1d_ago END,
        rank_7d_ago = CASE WHEN r.day - 7 >= p_from THEN n.rank_7d ELSE r.rank_7d_ago END
    FROM (
        SELECT a.scope, a.product_id, a.day, f1.rank AS rank_1d, f7.rank AS rank_7d
        FROM product_ranks_daily a
        LEFT JOIN fresh_ranks f1 ON f1.scope = a.scope AND f1.product_id = a.product_id AND f1.day = a.day - 1
        LEFT JOIN fresh_ranks f7 ON f7.scope = a.scope AND f7.product_id = a.product_id AND f7.day = a.day - 7
        WHERE a.day > p_to AND a.day <= p_to + 7
    ) n
    WHERE r.scope = n.scope AND r.product_id = n.product_id AND r.day = n.day;
    RETURN v_written;
END;
$$;
