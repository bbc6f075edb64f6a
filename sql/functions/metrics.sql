-- Daily product metrics (SPEC §4), computed in the database from the rollups.
--
-- compute_product_metrics(from, to) (re)writes product_metrics_daily for the days [from, to]. The base
-- series (unified levels and flows) is computed from the rollups for those days. Running totals
-- (cum_*) and EMAs resume from the stored row of the day before, so a trailing window is a
-- difference of two running totals (cum(d) - cum(d - N)) and lags are look-ups of the rows 1, 7 and
-- 30 days before: adding a day costs O(products), not O(history). Where a product has no stored day
-- just before `from`, it is computed from the day after its last stored day (or its first day).

-- EMA as an aggregate that can resume: ema(value, alpha, seed) OVER (ORDER BY day). The first row is
-- alpha * value + (1 - alpha) * seed, or the value itself when there is no seed (a product's first day).
CREATE OR REPLACE FUNCTION ema_step(state double precision, value double precision, alpha double precision,
                                    seed double precision)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN value IS NULL THEN state
        WHEN state IS NULL AND seed IS NULL THEN value
        ELSE alpha * value + (1 - alpha) * coalesce(state, seed)
    END
$$;

CREATE OR REPLACE AGGREGATE ema(double precision, double precision, double precision) (
    SFUNC = ema_step,
    STYPE = double precision
);

-- The exact median of numeric values (percentile_cont works in double precision, which can round
-- a half cent the wrong way): median_of(array_agg(x ORDER BY x)).
CREATE OR REPLACE FUNCTION median_of(sorted numeric[]) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN n = 0 THEN NULL
        WHEN n % 2 = 1 THEN sorted[(n + 1) / 2]
        ELSE (sorted[n / 2] + sorted[n / 2 + 1]) / 2
    END
    FROM (SELECT coalesce(cardinality(sorted), 0) AS n) c
$$;

-- Statistics for an intermediate table that later statements join, when it is big enough for a bad
-- guess to hurt (a backfill). A one-day run's tables are small; analysing them costs more than it saves.
CREATE OR REPLACE FUNCTION analyse_if_large(p_table regclass, p_min_rows bigint DEFAULT 20000) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_rows bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM %s LIMIT %s) t', p_table, p_min_rows) INTO v_rows;
    IF v_rows >= p_min_rows THEN
        EXECUTE format('ANALYZE %s', p_table);
    END IF;
END;
$$;

CREATE OR REPLACE FUNCTION setting(p_key text) RETURNS numeric
LANGUAGE sql STABLE AS $$ SELECT value FROM settings WHERE key = p_key $$;

CREATE OR REPLACE FUNCTION clamp(v double precision, lo double precision, hi double precision)
RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT greatest(lo, least(hi, v)) $$;

-- The data's clock before p_before: the end of the hour of the latest complete snapshot or sale
-- (null without any), from the hourly rollups' time indexes. volume_24h counts back from it.
-- PL/pgSQL, whose body is checked when run: this file is applied before the rollups exist.
CREATE OR REPLACE FUNCTION data_clock(p_before timestamptz) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN greatest(
        (SELECT max(bucket) FROM marketplace_hourly WHERE bucket < p_before AND snapshots > 0),
        (SELECT max(bucket) FROM sales_hourly WHERE bucket < p_before)
    ) + interval '1 hour';
END;
$$;

CREATE OR REPLACE FUNCTION compute_product_metrics(p_from date, p_to date, p_product_ids integer[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET TimeZone = 'UTC'
AS $$
DECLARE
    v_carry   integer := setting('max_carry_days')::integer;
    v_band    numeric := setting('near_floor_band');
    v_a7      double precision := 2.0 / (setting('ema_short_days') + 1);
    v_a30     double precision := 2.0 / (setting('ema_long_days') + 1);
    v_cap     double precision := setting('days_to_plus_20pct_cap');
    v_min_start date;
    v_data_end timestamptz;
    v_earlier_end timestamptz;
    v_written integer;
BEGIN
    DROP TABLE IF EXISTS pg_temp.metric_spans, pg_temp.metric_grid, pg_temp.metric_levels, pg_temp.metric_unified,
        pg_temp.metric_near_floor, pg_temp.metric_flows, pg_temp.metric_base, pg_temp.metric_running,
        pg_temp.metric_earlier, pg_temp.metric_windows, pg_temp.metric_market_prices, pg_temp.metric_last_24h;

    -- Which days to compute per product: from its first observation day (first snapshot, sale or
    -- price point), resuming after its last stored day when that is before p_from. A product with a
    -- stored day knows its first day from it (day - history_days + 1): one index probe, no scan.
    CREATE TEMP TABLE metric_spans ON COMMIT DROP AS
    WITH candidates AS (
        -- Usually the day before p_from is stored (one bulk read by day); otherwise the last stored day.
        SELECT p.id AS product_id, coalesce(eve.day, stored.day) AS last_day,
               coalesce(eve.day - eve.history_days, stored.day - stored.history_days) + 1 AS known_first_day
        FROM products p
        LEFT JOIN product_metrics_daily eve
          ON eve.product_id = p.id AND eve.day = p_from - 1 AND eve.cum_units_sold IS NOT NULL
        LEFT JOIN LATERAL (
            SELECT m.day, m.history_days FROM product_metrics_daily m
            WHERE eve.day IS NULL AND m.product_id = p.id AND m.day < p_from AND m.cum_units_sold IS NOT NULL
            ORDER BY m.day DESC
            LIMIT 1
        ) stored ON true
        WHERE p_product_ids IS NULL OR p.id = ANY (p_product_ids)
    ), unknown AS (
        SELECT product_id FROM candidates WHERE last_day IS NULL
    ), observed_first AS (
        SELECT product_id, min(bucket)::date AS first_day
        FROM (
            SELECT product_id, min(bucket) AS bucket FROM marketplace_daily
            WHERE snapshots > 0 AND product_id IN (SELECT product_id FROM unknown) GROUP BY 1
            UNION ALL
            SELECT product_id, min(bucket) FROM sales_daily WHERE product_id IN (SELECT product_id FROM unknown) GROUP BY 1
            UNION ALL
            SELECT product_id, min(bucket) FROM price_daily WHERE product_id IN (SELECT product_id FROM unknown) GROUP BY 1
        ) f
        GROUP BY product_id
    ), first_days AS (
        SELECT c.product_id, coalesce(c.known_first_day, o.first_day) AS first_day, c.last_day
        FROM candidates c
        LEFT JOIN observed_first o USING (product_id)
    )
    SELECT f.product_id, f.first_day,
           greatest(f.first_day, least(p_from, coalesce(f.last_day + 1, f.first_day))) AS start_day
    FROM first_days f
    WHERE f.first_day <= p_to;
    ANALYZE metric_spans;
    SELECT min(start_day) INTO v_min_start FROM metric_spans;
    IF v_min_start IS NULL THEN
        RETURN 0;
    END IF;

    -- volume_24h, the sales of the last 24 hours (SPEC §5). The data's clock is the end of the hour of
    -- the latest observation (a complete snapshot or a sale) up to the end of p_to: two probes of the
    -- hourly rollups' time index. A day that ends by then is whole, and its last 24 hours are its UTC
    -- day (volume_usd). A day that ends after it -- the latest, still filling, or one the data has
    -- not reached yet (just after midnight) -- takes the 24 hours before the clock, from the hourly
    -- rollup. The clock is the data's, not the wall's, so a recompute gives the same numbers.
    v_data_end := data_clock((p_to + 1)::timestamptz);
    CREATE TEMP TABLE metric_last_24h ON COMMIT DROP AS
    SELECT product_id, sum(volume_usd) AS volume_24h
    FROM sales_hourly
    WHERE v_data_end < (p_to + 1)::timestamptz
      AND bucket >= v_data_end - interval '24 hours' AND bucket < v_data_end
    GROUP BY product_id;

    CREATE TEMP TABLE metric_grid ON COMMIT DROP AS
    SELECT s.product_id, s.first_day, s.start_day, d::date AS day
    FROM metric_spans s, generate_series(s.start_day, p_to, interval '1 day') d;
    ANALYZE metric_grid;

    -- Levels per marketplace: its last complete snapshot observed on a day in [d - carry, d].
    CREATE TEMP TABLE metric_levels ON COMMIT DROP AS
    SELECT g.product_id, g.day, md.marketplace, md.close_floor, md.listings, md.units, md.units_near_floor,
           md.market_cap, md.last_snapshot_at, md.bucket::date = g.day AS observed_today, md.low_floor
    FROM metric_grid g
    JOIN (
        SELECT DISTINCT product_id, marketplace FROM marketplace_daily
        WHERE snapshots > 0 AND bucket >= (v_min_start - v_carry)::timestamptz AND bucket < (p_to + 1)::timestamptz
    ) pm USING (product_id)
    JOIN LATERAL (
        SELECT * FROM marketplace_daily md
        WHERE md.product_id = g.product_id AND md.marketplace = pm.marketplace AND md.snapshots > 0
          AND md.bucket >= (g.day - v_carry)::timestamptz AND md.bucket < (g.day + 1)::timestamptz
        ORDER BY md.bucket DESC
        LIMIT 1
    ) md ON true;
    ANALYZE metric_levels;

    -- Each intermediate result is a temp table with fresh statistics: the planner then joins them
    -- by hash instead of guessing one row and looping.
    CREATE TEMP TABLE metric_unified ON COMMIT DROP AS
    SELECT product_id, day, min(close_floor) AS floor_price,
           min(low_floor) FILTER (WHERE observed_today) AS floor_low,
           sum(listings)::integer AS active_listings, sum(units)::integer AS units_listed,
           sum(market_cap) AS visible_market_cap, max(last_snapshot_at) AS last_snapshot_at
    FROM metric_levels
    GROUP BY product_id, day;
    ANALYZE metric_unified;

    -- Units priced (landed) within the band of the unified floor, in each marketplace's level
    -- snapshot: its own count when its floor is the unified one, none when its floor is above the
    -- band, and otherwise counted from the snapshot's rows.
    CREATE TEMP TABLE metric_near_floor ON COMMIT DROP AS
    SELECT l.product_id, l.day,
           sum(CASE
               WHEN l.close_floor IS NULL THEN 0
               WHEN l.close_floor = u.floor_price THEN l.units_near_floor
               WHEN l.close_floor > (1 + v_band) * u.floor_price THEN 0
               ELSE (SELECT coalesce(sum(ls.quantity), 0) FROM listing_snapshots ls
                     WHERE ls.product_id = l.product_id AND ls.marketplace = l.marketplace
                       AND ls.observed_at = l.last_snapshot_at
                       AND ls.unit_price + ls.shipping <= (1 + v_band) * u.floor_price)
           END)::integer AS units_near_floor
    FROM metric_levels l
    JOIN metric_unified u USING (product_id, day)
    GROUP BY l.product_id, l.day;
    ANALYZE metric_near_floor;

    CREATE TEMP TABLE metric_flows ON COMMIT DROP AS
    WITH sold AS (
        SELECT product_id, bucket::date AS day, sum(units_sold) AS units_sold, sum(sales_count) AS sales_count,
               sum(volume_usd) AS volume_usd
        FROM sales_daily
        WHERE bucket >= v_min_start::timestamptz AND bucket < (p_to + 1)::timestamptz
        GROUP BY 1, 2
    ), added AS (
        SELECT product_id, bucket::date AS day, sum(units_added) AS units_added
        FROM marketplace_daily
        WHERE bucket >= v_min_start::timestamptz AND bucket < (p_to + 1)::timestamptz
        GROUP BY 1, 2
    ), medians AS (
        SELECT s.product_id, s.sold_at::date AS day,
               median_of(array_agg(s.unit_price ORDER BY s.unit_price)) AS median_sale_price
        FROM sales s
        WHERE s.sold_at >= v_min_start::timestamptz
          AND s.sold_at < (p_to + 1)::timestamptz
        GROUP BY 1, 2
    )
    SELECT g.product_id, g.day,
           coalesce(sold.units_sold, 0)::integer AS units_sold,
           coalesce(sold.sales_count, 0)::integer AS sales_count,
           coalesce(sold.volume_usd, 0) AS volume_usd,
           coalesce(added.units_added, 0)::integer AS units_added,
           medians.median_sale_price
    FROM metric_grid g
    LEFT JOIN sold USING (product_id, day)
    LEFT JOIN added USING (product_id, day)
    LEFT JOIN medians USING (product_id, day);
    ANALYZE metric_flows;

    -- The last TCGplayer market price observed on a day in [d - carry, d].
    CREATE TEMP TABLE metric_market_prices ON COMMIT DROP AS
    SELECT DISTINCT ON (g.product_id, g.day) g.product_id, g.day, pd.market_price
    FROM metric_grid g
    JOIN price_daily pd
      ON pd.product_id = g.product_id
     AND pd.bucket >= (g.day - v_carry)::timestamptz AND pd.bucket < (g.day + 1)::timestamptz
    WHERE pd.market_price IS NOT NULL
      AND pd.marketplace IN (SELECT code FROM marketplaces WHERE market_price_source)
      AND pd.bucket >= (v_min_start - v_carry)::timestamptz AND pd.bucket < (p_to + 1)::timestamptz
    ORDER BY g.product_id, g.day, pd.bucket DESC;

    CREATE TEMP TABLE metric_base ON COMMIT DROP AS
    SELECT g.product_id, g.day, g.first_day, g.start_day,
           (g.day - g.first_day + 1) AS history_days,
           u.floor_price, u.floor_low, u.active_listings, u.units_listed, nf.units_near_floor,
           u.visible_market_cap, u.last_snapshot_at,
           f.units_sold, f.sales_count, f.volume_usd,
           CASE WHEN (g.day + 1)::timestamptz > v_data_end THEN coalesce(l24.volume_24h, 0) ELSE f.volume_usd END
               AS volume_24h,
           round(f.volume_usd / nullif(f.units_sold, 0), 2) AS avg_sale_price,
           round(f.median_sale_price, 2) AS median_sale_price,
           f.units_added,
           round(coalesce(tcg.market_price, fallback.median_7d), 2) AS market_price
    FROM metric_grid g
    JOIN metric_flows f USING (product_id, day)
    LEFT JOIN metric_unified u USING (product_id, day)
    LEFT JOIN metric_near_floor nf USING (product_id, day)
    LEFT JOIN metric_market_prices tcg USING (product_id, day)
    LEFT JOIN metric_last_24h l24 ON l24.product_id = g.product_id
    -- No TCGplayer market price in [d - carry, d]: the median unit sale price over [d - 6, d].
    LEFT JOIN LATERAL (
        SELECT median_of(array_agg(s.unit_price ORDER BY s.unit_price)) AS median_7d
        FROM sales s
        WHERE tcg.market_price IS NULL AND s.product_id = g.product_id
          AND s.sold_at >= (g.day - 6)::timestamptz AND s.sold_at < (g.day + 1)::timestamptz
        HAVING count(*) > 0
    ) fallback ON true;

    -- Running totals and EMAs over the fresh days, resumed from the stored day before each span.
    CREATE TEMP TABLE metric_running ON COMMIT DROP AS
    WITH seeds AS (
        SELECT m.* FROM product_metrics_daily m
        JOIN metric_spans sp ON sp.product_id = m.product_id AND m.day = sp.start_day - 1
        WHERE m.day >= v_min_start - 1
    )
    SELECT b.*,
           coalesce(seeds.cum_volume_usd, 0) + sum(b.volume_usd) OVER running AS cum_volume_usd,
           coalesce(seeds.cum_units_sold, 0) + sum(b.units_sold) OVER running AS cum_units_sold,
           coalesce(seeds.cum_units_added, 0) + sum(b.units_added) OVER running AS cum_units_added,
           coalesce(seeds.cum_floor_sum, 0) + coalesce(sum(b.floor_price) OVER running, 0) AS cum_floor_sum,
           coalesce(seeds.cum_floor_days, 0) + count(b.floor_price) OVER running AS cum_floor_days,
           ema(b.volume_usd::double precision, v_a7, seeds.volume_ema_7d) OVER running AS volume_ema_7d,
           ema(b.volume_usd::double precision, v_a30, seeds.volume_ema_30d) OVER running AS volume_ema_30d,
           ema(b.units_sold::double precision, v_a7, seeds.units_sold_ema_7d) OVER running AS units_sold_ema_7d
    FROM metric_base b
    LEFT JOIN seeds USING (product_id)
    WINDOW running AS (PARTITION BY b.product_id ORDER BY b.day ROWS UNBOUNDED PRECEDING);
    PERFORM analyse_if_large('pg_temp.metric_running');

    -- The days a fresh day looks back to (1, 7 and 30 days before), fresh or stored. A day before a
    -- product's first day is absent: its running totals count as 0.
    CREATE TEMP TABLE metric_earlier ON COMMIT DROP AS
    SELECT product_id, day, cum_volume_usd, cum_units_sold, cum_units_added, cum_floor_sum, cum_floor_days,
           floor_price, market_price
    FROM metric_running
    UNION ALL
    SELECT m.product_id, m.day, m.cum_volume_usd, m.cum_units_sold, m.cum_units_added, m.cum_floor_sum,
           m.cum_floor_days, m.floor_price, m.market_price
    FROM product_metrics_daily m
    JOIN metric_spans sp ON sp.product_id = m.product_id AND m.day < sp.start_day
    WHERE m.day IN (SELECT DISTINCT g.day - back FROM metric_grid g, unnest(ARRAY[1, 7, 30]) AS back)
      AND m.day >= v_min_start - 30;
    PERFORM analyse_if_large('pg_temp.metric_earlier');

    -- Trailing windows as differences of running totals: x over [d - N + 1, d] = cum(d) - cum(d - N).
    CREATE TEMP TABLE metric_windows ON COMMIT DROP AS
    SELECT r.*,
           r.cum_volume_usd - coalesce(e7.cum_volume_usd, 0) AS volume_7d,
           r.cum_volume_usd - coalesce(e30.cum_volume_usd, 0) AS volume_30d,
           (r.cum_units_sold - coalesce(e7.cum_units_sold, 0))::integer AS units_sold_7d,
           (r.cum_units_sold - coalesce(e30.cum_units_sold, 0))::integer AS units_sold_30d,
           r.cum_units_added - coalesce(e7.cum_units_added, 0) AS units_added_7d,
           r.cum_units_added - coalesce(e30.cum_units_added, 0) AS units_added_30d,
           (r.cum_floor_sum - coalesce(e7.cum_floor_sum, 0))
               / nullif(r.cum_floor_days - coalesce(e7.cum_floor_days, 0), 0) AS floor_mean_7d,
           e1.floor_price AS floor_1d, e7.floor_price AS floor_7d, e30.floor_price AS floor_30d,
           e1.market_price AS market_1d, e7.market_price AS market_7d, e30.market_price AS market_30d
    FROM metric_running r
    LEFT JOIN metric_earlier e1 ON e1.product_id = r.product_id AND e1.day = r.day - 1
    LEFT JOIN metric_earlier e7 ON e7.product_id = r.product_id AND e7.day = r.day - 7
    LEFT JOIN metric_earlier e30 ON e30.product_id = r.product_id AND e30.day = r.day - 30;
    PERFORM analyse_if_large('pg_temp.metric_windows');

    DELETE FROM product_metrics_daily m
    USING metric_spans s
    WHERE m.product_id = s.product_id AND m.day >= s.start_day AND m.day <= p_to
      AND m.day >= v_min_start;  -- a constant bound, for chunk exclusion

    INSERT INTO product_metrics_daily (
        day, product_id, history_days, floor_price, floor_low, active_listings, units_listed, units_near_floor,
        visible_market_cap, units_sold, sales_count, volume_usd, volume_24h, avg_sale_price, median_sale_price, units_added,
        market_price, volume_ema_7d, volume_ema_30d, units_sold_ema_7d, volume_sma_7d, volume_sma_30d,
        units_sold_sma_7d, units_sold_sma_30d, units_added_sma_7d, units_added_sma_30d, floor_sma_7d,
        volume_7d, volume_30d, units_sold_7d, units_sold_30d, floor_change_pct_1d, floor_change_pct_7d,
        floor_change_pct_30d, market_change_pct_1d, market_change_pct_7d, market_change_pct_30d,
        volume_change_pct_7d, volume_change_pct_30d, sold_avg_30d, added_avg_30d, days_to_plus_20pct,
        expected_days_to_sell, liquidity_score, absorption_ratio, momentum, insufficient_history, low_liquidity,
        stale, cum_volume_usd, cum_units_sold, cum_units_added, cum_floor_sum, cum_floor_days)
    WITH prior AS (
        -- The 7- and 30-day volumes of 7 and 30 days before, for volume_change_pct_*.
        SELECT product_id, day, volume_7d, volume_30d FROM metric_windows
        UNION ALL
        SELECT m.product_id, m.day, m.volume_7d, m.volume_30d
        FROM product_metrics_daily m
        JOIN metric_spans sp ON sp.product_id = m.product_id AND m.day < sp.start_day
        WHERE m.day IN (SELECT DISTINCT g.day - back FROM metric_grid g, unnest(ARRAY[7, 30]) AS back)
          AND m.day >= v_min_start - 30
    ), indicators AS (
        SELECT w.*, p7.volume_7d AS volume_prior_7d, p30.volume_30d AS volume_prior_30d,
               -- stale: no complete snapshot in the 48 hours before the end of the day
               coalesce(w.last_snapshot_at < (w.day + 1)::timestamptz - interval '48 hours', true) AS is_stale,
               CASE WHEN w.history_days >= 7
                    THEN (w.units_sold_30d::numeric / least(30, w.history_days))::double precision END AS sold_avg_30d,
               CASE WHEN w.history_days >= 7
                    THEN (w.units_added_30d::numeric / least(30, w.history_days))::double precision END AS added_avg_30d,
               CASE WHEN w.history_days >= 7 THEN w.units_sold_7d / 7.0 END AS units_sold_sma_7d,
               CASE WHEN w.history_days >= 7 THEN w.units_added_7d / 7.0 END AS units_added_sma_7d
        FROM metric_windows w
        LEFT JOIN prior p7 ON p7.product_id = w.product_id AND p7.day = w.day - 7
        LEFT JOIN prior p30 ON p30.product_id = w.product_id AND p30.day = w.day - 30
    )
    SELECT i.day, i.product_id, i.history_days, i.floor_price, i.floor_low, i.active_listings, i.units_listed,
           i.units_near_floor, i.visible_market_cap, i.units_sold, i.sales_count, i.volume_usd, i.volume_24h,
           i.avg_sale_price,
           i.median_sale_price, i.units_added, i.market_price,
           i.volume_ema_7d, i.volume_ema_30d, i.units_sold_ema_7d,
           CASE WHEN i.history_days >= 7 THEN i.volume_7d / 7 END,
           CASE WHEN i.history_days >= 30 THEN i.volume_30d / 30 END,
           i.units_sold_sma_7d,
           CASE WHEN i.history_days >= 30 THEN i.units_sold_30d / 30.0 END,
           i.units_added_sma_7d,
           CASE WHEN i.history_days >= 30 THEN i.units_added_30d / 30.0 END,
           CASE WHEN i.history_days >= 7 THEN i.floor_mean_7d END,
           i.volume_7d, i.volume_30d, i.units_sold_7d, i.units_sold_30d,
           (i.floor_price - i.floor_1d) / nullif(i.floor_1d, 0) * 100,
           (i.floor_price - i.floor_7d) / nullif(i.floor_7d, 0) * 100,
           (i.floor_price - i.floor_30d) / nullif(i.floor_30d, 0) * 100,
           (i.market_price - i.market_1d) / nullif(i.market_1d, 0) * 100,
           (i.market_price - i.market_7d) / nullif(i.market_7d, 0) * 100,
           (i.market_price - i.market_30d) / nullif(i.market_30d, 0) * 100,
           CASE WHEN i.history_days >= 14
                THEN (i.volume_7d - i.volume_prior_7d) / nullif(i.volume_prior_7d, 0) * 100 END,
           CASE WHEN i.history_days >= 60
                THEN (i.volume_30d - i.volume_prior_30d) / nullif(i.volume_prior_30d, 0) * 100 END,
           i.sold_avg_30d,
           i.added_avg_30d,
           -- days_to_plus_20pct: units near the floor over the net burn (sold - added per day)
           CASE
               WHEN i.units_near_floor IS NULL OR i.sold_avg_30d IS NULL
                    OR i.sold_avg_30d - i.added_avg_30d <= 0 THEN NULL
               WHEN i.sold_avg_30d - i.added_avg_30d <= 0.05 THEN v_cap
               ELSE least(v_cap, i.units_near_floor / (i.sold_avg_30d - i.added_avg_30d))
           END,
           CASE WHEN i.sold_avg_30d > 0.05 AND i.units_near_floor IS NOT NULL
                THEN clamp(i.units_near_floor / i.sold_avg_30d, 1, 365) END,
           CASE WHEN i.sold_avg_30d IS NOT NULL
                THEN 100 * least(1, 7 * i.sold_avg_30d / greatest(coalesce(i.units_listed, 0), 1)) END,
           i.units_sold_sma_7d / nullif(i.units_added_sma_7d, 0),
           CASE WHEN i.sold_avg_30d <> 0
                THEN clamp((i.units_sold_sma_7d - i.sold_avg_30d) / i.sold_avg_30d, -1, 1) END,
           i.history_days < 7,
           coalesce(i.active_listings, 0) < 3,
           i.is_stale,
           i.cum_volume_usd, i.cum_units_sold, i.cum_units_added, i.cum_floor_sum, i.cum_floor_days
    FROM indicators i
    -- Day by day: a day's rows then sit in few pages, which is how the leaderboard, ranks and
    -- the index read them (a product's history reads through the primary key either way).
    ORDER BY i.day, i.product_id;
    GET DIAGNOSTICS v_written = ROW_COUNT;

    -- Stored days before the fresh ones that ended after the clock of their time (the clock of the
    -- data before the fresh days) counted the 24 hours up to it; data since makes them whole days.
    v_earlier_end := data_clock(v_min_start::timestamptz);
    UPDATE product_metrics_daily m
    SET volume_24h = m.volume_usd
    FROM metric_spans s
    WHERE m.product_id = s.product_id AND m.day < s.start_day
      AND m.day >= (v_earlier_end - interval '1 day')::date  -- a constant bound, for chunk exclusion
      AND (m.day + 1)::timestamptz > v_earlier_end AND (m.day + 1)::timestamptz <= v_data_end
      AND m.volume_24h <> m.volume_usd;
    RETURN v_written;
END;
$$;
