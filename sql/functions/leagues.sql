-- Fantasy leagues (SPEC §11; docs/METRICS.md, "Fantasy leagues"): prices, roster checks and scoring.
--
-- Scoring a round locking on day D is two steps, both idempotent:
--   SELECT store_league_product_points(D);              -- once per D: every active product, every preset
--   SELECT score_league_round(D, ARRAY[...league ids]); -- per chunk of leagues; chunks run in parallel
-- A product's points depend on the market and the preset only, never on a league, so 10,000 leagues
-- cost one computation of them plus a join of their rosters.

-- A product's price on a price day: its (carried-forward) floor, else its market price. Active
-- products with a price only: a product missing here cannot be picked.
CREATE OR REPLACE FUNCTION league_prices(p_day date)
RETURNS TABLE (product_id integer, price numeric)
LANGUAGE sql STABLE AS $$
    SELECT p.id, coalesce(m.floor_price, m.market_price)
    FROM products p
    JOIN product_metrics_daily m ON m.product_id = p.id AND m.day = p_day
    WHERE p.active AND coalesce(m.floor_price, m.market_price) IS NOT NULL
$$;

-- What is wrong with a roster, at the prices of p_price_day: an empty array when nothing is. Codes:
-- size (not p_roster_size products), duplicate, captain (not among the products), unpriced (a
-- product inactive, unknown or without a price), over_budget (Σ price of the priced ones > budget).
-- The same check at save time (the latest computed day) and at the lock (the round's price day).
CREATE OR REPLACE FUNCTION league_roster_problems(p_price_day date, p_roster_size integer, p_budget numeric,
                                                  p_product_ids integer[], p_captain_id integer)
RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT array_remove(ARRAY[
        CASE WHEN cardinality(ids) <> p_roster_size THEN 'size' END,
        CASE WHEN NOT array_is_distinct(ids) OR array_position(ids, NULL) IS NOT NULL THEN 'duplicate' END,
        CASE WHEN p_captain_id IS NULL OR p_captain_id <> ALL (ids) THEN 'captain' END,
        CASE WHEN priced.n < (SELECT count(DISTINCT x) FROM unnest(ids) x) THEN 'unpriced' END,
        CASE WHEN priced.total > p_budget THEN 'over_budget' END
    ], NULL)
    FROM (SELECT coalesce(p_product_ids, '{}') AS ids) a
    CROSS JOIN LATERAL (
        SELECT count(*) AS n, coalesce(sum(lp.price), 0) AS total
        FROM league_prices(p_price_day) lp
        WHERE lp.product_id = ANY (a.ids)
    ) priced
$$;

-- Transfers of a roster: its products not in the previous one (none without a previous one).
CREATE OR REPLACE FUNCTION league_transfers(p_previous integer[], p_current integer[]) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_previous IS NULL THEN 0
                ELSE (SELECT count(*)::integer FROM unnest(p_current) x WHERE x <> ALL (p_previous)) END
$$;

-- Product points of the round locking on p_lock_day, for every active product and preset:
--   pct    = (floor(D + 6) - floor(D - 1)) / floor(D - 1) * 100, the stored unified carried-forward
--            floors; null (insufficient_data, 0 points) when either is missing
--   pos    = 25, 18, 15, 12, 10, 8, 6, 4, 2, 1 for the competition ranks 1..10 of Σ volume_usd over
--            D .. D + 6 among the active products; 0 below, and 0 for a week without sales (a tie
--            of nothing is no place on the podium)
--   points = round(w_price * pct + w_volume * pos, 2), in numeric, so the rounding is exact
CREATE OR REPLACE FUNCTION league_round_product_points(p_lock_day date)
RETURNS TABLE (preset text, product_id integer, volume_usd numeric, pct double precision, pos integer,
               points numeric, insufficient_data boolean)
LANGUAGE sql STABLE AS $$
    WITH week AS (
        SELECT p.id AS product_id,
               coalesce(sum(m.volume_usd) FILTER (WHERE m.day >= p_lock_day), 0) AS volume_usd,
               min(m.floor_price) FILTER (WHERE m.day = p_lock_day - 1) AS floor_before,
               min(m.floor_price) FILTER (WHERE m.day = p_lock_day + 6) AS floor_after
        FROM products p
        LEFT JOIN product_metrics_daily m
          ON m.product_id = p.id AND m.day BETWEEN p_lock_day - 1 AND p_lock_day + 6
        WHERE p.active
        GROUP BY p.id
    ), placed AS (
        SELECT w.product_id, w.volume_usd,
               (w.floor_after - w.floor_before) / nullif(w.floor_before, 0) * 100 AS pct,
               -- products without sales sort last, so they never push a selling product down
               CASE WHEN w.volume_usd > 0
                    THEN coalesce((ARRAY[25, 18, 15, 12, 10, 8, 6, 4, 2, 1])[rank() OVER (ORDER BY w.volume_usd DESC)], 0)
                    ELSE 0 END AS pos
        FROM week w
    )
    SELECT lp.code, pl.product_id, pl.volume_usd, pl.pct::double precision, pl.pos,
           CASE WHEN pl.pct IS NULL THEN 0 ELSE round(lp.w_price * pl.pct + lp.w_volume * pl.pos, 2) END,
           pl.pct IS NULL
    FROM placed pl
    CROSS JOIN league_presets lp
$$;

-- Stores the product points of the round locking on p_lock_day (league_product_points), rewriting
-- only rows whose numbers changed: a second run changes nothing. Refuses while day D + 6 is not
-- computed: scoring then would flag every product. Returns the rows written or removed.
CREATE OR REPLACE FUNCTION store_league_product_points(p_lock_day date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_written integer;
    v_removed integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM product_metrics_daily WHERE day = p_lock_day + 6) THEN
        RAISE EXCEPTION 'the round locking on % needs the metrics of %, not computed yet', p_lock_day, p_lock_day + 6
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    -- a product deactivated since the last run scores no more (a roster holding it gets 0, flagged)
    DELETE FROM league_product_points lpp
    WHERE lpp.lock_day = p_lock_day
      AND NOT EXISTS (SELECT 1 FROM products p WHERE p.id = lpp.product_id AND p.active);
    GET DIAGNOSTICS v_removed = ROW_COUNT;

    INSERT INTO league_product_points AS old (lock_day, preset, product_id, volume_usd, pct, pos, points,
                                              insufficient_data)
    SELECT p_lock_day, n.preset, n.product_id, n.volume_usd, n.pct, n.pos, n.points, n.insufficient_data
    FROM league_round_product_points(p_lock_day) n
    ON CONFLICT (lock_day, preset, product_id) DO UPDATE
    SET volume_usd = EXCLUDED.volume_usd, pct = EXCLUDED.pct, pos = EXCLUDED.pos, points = EXCLUDED.points,
        insufficient_data = EXCLUDED.insufficient_data, computed_at = now()
    WHERE (old.volume_usd, old.pct, old.pos, old.points, old.insufficient_data)
          IS DISTINCT FROM (EXCLUDED.volume_usd, EXCLUDED.pct, EXCLUDED.pos, EXCLUDED.points, EXCLUDED.insufficient_data);
    GET DIAGNOSTICS v_written = ROW_COUNT;
    RETURN v_written + v_removed;
END;
$$;

-- Scores the rounds locking on p_lock_day of the leagues p_league_ids (a chunk), from the stored
-- product points (store_league_product_points first). Per member: product_points = Σ points of the
-- roster's products, the captain's twice; transfers = league_transfers(previous round's roster,
-- this one) (the lock carries every roster forward, so the previous round's is the last locked
-- one); penalty = 4 per transfer beyond 2, none with the wildcard; points = product_points - penalty.
-- Only locked or scored rounds are scored. A result is rewritten only when a number changed, and a
-- change to a scored result is kept in league_corrections (points before and after, p_reason): a
-- second run changes nothing. Two scorers of the same leagues queue on the rounds' rows; chunks of
-- distinct leagues run in parallel. Returns the members whose result was written or changed.
CREATE OR REPLACE FUNCTION score_league_round(p_lock_day date, p_league_ids integer[],
                                              p_reason text DEFAULT 'rescored')
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_changed integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM league_product_points WHERE lock_day = p_lock_day) THEN
        RAISE EXCEPTION 'no product points for the round locking on %: run store_league_product_points first', p_lock_day
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    -- In league order, so two scorers of overlapping chunks never deadlock.
    PERFORM 1 FROM league_rounds r
    WHERE r.lock_day = p_lock_day AND r.league_id = ANY (p_league_ids) AND r.status <> 'open'
    ORDER BY r.league_id
    FOR UPDATE;

    DROP TABLE IF EXISTS pg_temp.league_scores;
    CREATE TEMP TABLE league_scores ON COMMIT DROP AS
    WITH rostered AS (
        SELECT ro.league_id, ro.round_no, ro.member_id, l.preset, ro.captain_id, x.product_id
        FROM league_rounds r
        JOIN leagues l ON l.id = r.league_id
        JOIN league_rosters ro ON ro.league_id = r.league_id AND ro.round_no = r.round_no
        CROSS JOIN unnest(ro.product_ids) AS x (product_id)
        WHERE r.lock_day = p_lock_day AND r.league_id = ANY (p_league_ids) AND r.status <> 'open'
    ), summed AS (
        SELECT s.league_id, s.round_no, s.member_id,
               sum(CASE WHEN s.product_id = s.captain_id THEN 2 ELSE 1 END * coalesce(pp.points, 0)) AS product_points,
               -- a product without a row (deactivated since the lock) lacks data too
               count(*) FILTER (WHERE pp.insufficient_data IS NOT false)::integer AS insufficient_products
        FROM rostered s
        LEFT JOIN league_product_points pp
          ON pp.lock_day = p_lock_day AND pp.preset = s.preset AND pp.product_id = s.product_id
        GROUP BY s.league_id, s.round_no, s.member_id
    )
    SELECT s.league_id, s.round_no, s.member_id, s.product_points, t.transfers,
           CASE WHEN ro.wildcard THEN 0 ELSE 4 * greatest(t.transfers - 2, 0) END::numeric AS penalty,
           s.insufficient_products
    FROM summed s
    JOIN league_rosters ro ON ro.member_id = s.member_id AND ro.round_no = s.round_no
    LEFT JOIN league_rosters prev ON prev.member_id = s.member_id AND prev.round_no = s.round_no - 1
    CROSS JOIN LATERAL (SELECT league_transfers(prev.product_ids, ro.product_ids) AS transfers) t;

    INSERT INTO league_corrections (league_id, round_no, member_id, points_before, points_after, reason)
    SELECT s.league_id, s.round_no, s.member_id, r.points, s.product_points - s.penalty, p_reason
    FROM league_scores s
    JOIN league_results r USING (league_id, round_no, member_id)
    WHERE r.points <> s.product_points - s.penalty;

    WITH written AS (
        INSERT INTO league_results AS old (league_id, round_no, member_id, product_points, transfers, penalty, points,
                                           insufficient_products)
        SELECT s.league_id, s.round_no, s.member_id, s.product_points, s.transfers, s.penalty,
               s.product_points - s.penalty, s.insufficient_products
        FROM league_scores s
        ON CONFLICT (league_id, round_no, member_id) DO UPDATE
        SET product_points = EXCLUDED.product_points, transfers = EXCLUDED.transfers, penalty = EXCLUDED.penalty,
            points = EXCLUDED.points, insufficient_products = EXCLUDED.insufficient_products, scored_at = now()
        WHERE (old.product_points, old.transfers, old.penalty, old.insufficient_products)
              IS DISTINCT FROM (EXCLUDED.product_points, EXCLUDED.transfers, EXCLUDED.penalty,
                                EXCLUDED.insufficient_products)
        RETURNING old.league_id
    ), rounds AS (
        -- scored_at: when the round's results last changed; first_scored_at opens the corrections window
        UPDATE league_rounds r
        SET status = 'scored', first_scored_at = coalesce(r.first_scored_at, now()), scored_at = now()
        WHERE r.lock_day = p_lock_day AND r.league_id = ANY (p_league_ids)
          AND (r.status = 'locked' OR r.league_id IN (SELECT league_id FROM written))
    )
    SELECT count(*) INTO v_changed FROM written;
    RETURN v_changed;
END;
$$;
