-- Per-snapshot summary in the registry: floor (landed), units within the near-floor band of that
-- floor, visible market cap. Computed from the snapshot's rows for every pending (complete, not yet
-- diffed) snapshot, or, given a time window, for every complete snapshot in it (after a change of
-- near_floor_band). The daily and hourly rollups read these instead of the rows.
DROP FUNCTION IF EXISTS summarise_snapshots(text, integer[]);
CREATE OR REPLACE FUNCTION summarise_snapshots(p_marketplace text, p_product_ids integer[] DEFAULT NULL,
                                               p_from timestamptz DEFAULT NULL, p_to timestamptz DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_band    numeric := (SELECT value FROM settings WHERE key = 'near_floor_band');
    v_updated integer;
BEGIN
    WITH pending AS (
        SELECT s.product_id, s.observed_at
        FROM snapshots s
        WHERE s.marketplace = p_marketplace AND s.complete AND s.listing_count > 0
          AND (p_product_ids IS NULL OR s.product_id = ANY (p_product_ids))
          AND CASE WHEN p_from IS NULL THEN NOT s.diffed
                   ELSE s.observed_at >= p_from AND s.observed_at < p_to END
    ), rows AS (
        SELECT l.product_id, l.observed_at, l.unit_price, l.quantity, l.unit_price + l.shipping AS landed,
               min(l.unit_price + l.shipping) OVER (PARTITION BY l.product_id, l.observed_at) AS floor_landed
        FROM pending p
        JOIN listing_snapshots l
          ON l.product_id = p.product_id AND l.observed_at = p.observed_at AND l.marketplace = p_marketplace
    ), summary AS (
        SELECT product_id, observed_at, min(floor_landed) AS floor_landed,
               coalesce(sum(quantity) FILTER (WHERE landed <= (1 + v_band) * floor_landed), 0) AS units_near_floor,
               sum(unit_price * quantity) AS market_cap
        FROM rows
        GROUP BY product_id, observed_at
    )
    UPDATE snapshots s
    SET floor_landed = summary.floor_landed, units_near_floor = summary.units_near_floor,
        market_cap = summary.market_cap
    FROM summary
    WHERE s.product_id = summary.product_id AND s.observed_at = summary.observed_at
      AND s.marketplace = p_marketplace;
    GET DIAGNOSTICS v_updated = ROW_COUNT;
    RETURN v_updated;
END;
$$;

-- Listing changes and inferred sales (SPEC §3), computed set-based over every pending snapshot pair.
--
-- A snapshot is pending when it is complete and not yet diffed. Each one is paired with the previous
-- complete snapshot of the same product and marketplace; the pair is diffed into listing_events and,
-- for marketplaces without a sold feed, into inferred sales. The snapshot is then marked diffed in
-- the same transaction, and sale keys are deterministic, so running this twice equals running it once.
CREATE OR REPLACE FUNCTION infer_listing_changes(p_marketplace text, p_product_ids integer[] DEFAULT NULL)
RETURNS TABLE (pairs integer, events integer, inferred_sales integer, units_inferred integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_premium   numeric := (SELECT value FROM settings WHERE key = 'max_sale_premium');
    v_max_gap   interval := make_interval(hours => (SELECT value FROM settings WHERE key = 'max_snapshot_gap_hours')::int);
    v_infer     boolean := NOT (SELECT has_sold_feed FROM marketplaces WHERE code = p_marketplace);
BEGIN
    IF v_infer IS NULL THEN
        RAISE EXCEPTION 'unknown marketplace %', p_marketplace USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Runs over the same products of a marketplace take turns (a second one waits, then finds nothing
    -- pending); runs over different products proceed in parallel. Locks are taken in product order.
    IF p_product_ids IS NULL THEN
        PERFORM pg_advisory_xact_lock(hashtext('infer_listing_changes:' || p_marketplace));
    ELSE
        PERFORM pg_advisory_xact_lock_shared(hashtext('infer_listing_changes:' || p_marketplace));
        PERFORM pg_advisory_xact_lock(hashtext('infer_listing_changes:' || p_marketplace), product_id)
        FROM (SELECT DISTINCT unnest(p_product_ids) AS product_id ORDER BY 1) ids;
    END IF;
    PERFORM summarise_snapshots(p_marketplace, p_product_ids);

    DROP TABLE IF EXISTS pg_temp.pending_pairs, pg_temp.pair_rows, pg_temp.pair_changes, pg_temp.seller_flows;

    CREATE TEMP TABLE pending_pairs ON COMMIT DROP AS
    SELECT s.product_id, s.observed_at AS t1, prev.t0,
           prev.t0 IS NOT NULL AND s.observed_at - prev.t0 <= v_max_gap AS diffable
    FROM snapshots s
    LEFT JOIN LATERAL (
        SELECT max(p.observed_at) AS t0
        FROM snapshots p
        WHERE p.product_id = s.product_id AND p.marketplace = s.marketplace AND p.complete
          AND p.observed_at < s.observed_at
    ) prev ON true
    WHERE s.marketplace = p_marketplace AND s.complete AND NOT s.diffed
      AND (p_product_ids IS NULL OR s.product_id = ANY (p_product_ids));

    -- Both snapshots of every diffable pair, side by side per listing.
    CREATE TEMP TABLE pair_rows ON COMMIT DROP AS
    WITH prev AS (
        SELECT pp.product_id, pp.t1, l.listing_id, l.seller_id, l.unit_price, l.shipping, l.quantity,
               min(l.unit_price + l.shipping) OVER (PARTITION BY pp.product_id, pp.t1) AS floor_landed
        FROM pending_pairs pp
        JOIN listing_snapshots l
          ON l.product_id = pp.product_id AND l.observed_at = pp.t0 AND l.marketplace = p_marketplace
        WHERE pp.diffable
    ), cur AS (
        SELECT pp.product_id, pp.t1, l.listing_id, l.seller_id, l.unit_price, l.shipping, l.quantity
        FROM pending_pairs pp
        JOIN listing_snapshots l
          ON l.product_id = pp.product_id AND l.observed_at = pp.t1 AND l.marketplace = p_marketplace
        WHERE pp.diffable
    )
    SELECT coalesce(cur.product_id, prev.product_id) AS product_id,
           coalesce(cur.t1, prev.t1) AS t1,
           coalesce(cur.listing_id, prev.listing_id) AS listing_id,
           coalesce(cur.seller_id, prev.seller_id) AS seller_id,
           prev.unit_price AS prev_price, prev.shipping AS prev_shipping, prev.quantity AS prev_qty,
           prev.floor_landed,
           cur.unit_price AS price, cur.quantity AS qty
    FROM prev FULL JOIN cur
      ON cur.product_id = prev.product_id AND cur.t1 = prev.t1 AND cur.listing_id = prev.listing_id;

    CREATE TEMP TABLE pair_changes ON COMMIT DROP AS
    SELECT r.*, e.event
    FROM pair_rows r
    CROSS JOIN LATERAL (
        SELECT 'LISTED' AS event WHERE r.prev_qty IS NULL
        UNION ALL
        SELECT CASE WHEN r.prev_price + r.prev_shipping > v_premium * r.floor_landed THEN 'WITHDRAWN' ELSE 'DELISTED' END
        WHERE r.qty IS NULL
        UNION ALL
        SELECT 'QTY_DOWN' WHERE r.qty < r.prev_qty
        UNION ALL
        SELECT 'QTY_UP' WHERE r.qty > r.prev_qty
        UNION ALL
        SELECT 'PRICE_CHANGED' WHERE r.price <> r.prev_price
    ) e;

    INSERT INTO listing_events (observed_at, product_id, marketplace, listing_id, seller_id, event,
                                prev_unit_price, unit_price, prev_quantity, quantity)
    SELECT t1, product_id, p_marketplace, listing_id, seller_id, event, prev_price, price, prev_qty, qty
    FROM pair_changes;
    GET DIAGNOSTICS events = ROW_COUNT;

    -- Units per seller and pair: gone (delisted, not withdrawn), down, new, up; relisted = min(gone, new).
    CREATE TEMP TABLE seller_flows ON COMMIT DROP AS
    SELECT product_id, t1, seller_id,
           coalesce(sum(prev_qty) FILTER (WHERE event = 'DELISTED'), 0) AS gone,
           coalesce(sum(prev_qty - qty) FILTER (WHERE event = 'QTY_DOWN'), 0) AS down,
           coalesce(sum(qty) FILTER (WHERE event = 'LISTED'), 0) AS new,
           coalesce(sum(qty - prev_qty) FILTER (WHERE event = 'QTY_UP'), 0) AS up
    FROM pair_changes
    GROUP BY product_id, t1, seller_id;

    inferred_sales := 0;
    units_inferred := 0;
    IF v_infer THEN
        WITH sold AS (
            -- Quantity drops: each listing's lost units sold at its previous price.
            SELECT c.product_id, c.t1, c.listing_id, c.prev_price AS unit_price, c.prev_shipping AS shipping,
                   c.prev_qty - c.qty AS units, 'down' AS rule
            FROM pair_changes c
            WHERE c.event = 'QTY_DOWN'
            UNION ALL
            -- Delistings beyond the relisted units, cheapest first (ties by listing id, byte order).
            SELECT d.product_id, d.t1, d.listing_id, d.prev_price, d.prev_shipping,
                   greatest(0, least(d.prev_qty, (f.gone - least(f.gone, f.new)) - (d.cum_units - d.prev_qty))),
                   'gone'
            FROM (
                SELECT c.*, sum(c.prev_qty) OVER (
                           PARTITION BY c.product_id, c.t1, c.seller_id
                           ORDER BY c.prev_price, c.listing_id COLLATE "C"
                           ROWS UNBOUNDED PRECEDING) AS cum_units
                FROM pair_changes c
                WHERE c.event = 'DELISTED'
            ) d
            JOIN seller_flows f USING (product_id, t1, seller_id)
        ), inserted AS (
            INSERT INTO sales (sold_at, product_id, marketplace, sale_key, unit_price, shipping, quantity, basis, listing_id)
            SELECT s.t1, s.product_id, p_marketplace,
                   'inferred:' || s.rule || ':' || s.product_id || ':' || extract(epoch FROM s.t1)::bigint || ':' || s.listing_id,
                   s.unit_price, s.shipping, s.units, 'inferred', s.listing_id
            FROM sold s
            WHERE s.units > 0
            ON CONFLICT (marketplace, sale_key, sold_at) DO NOTHING
            RETURNING quantity
        )
        SELECT count(*), coalesce(sum(quantity), 0) INTO inferred_sales, units_inferred FROM inserted;
    END IF;

    UPDATE snapshots s
    SET diffed = true,
        prev_observed_at = CASE WHEN pp.diffable THEN pp.t0 END,
        units_added = CASE WHEN pp.diffable THEN coalesce(f.added, 0) ELSE 0 END,
        units_inferred_sold = CASE WHEN pp.diffable AND v_infer THEN coalesce(f.sold, 0) END
    FROM pending_pairs pp
    LEFT JOIN (
        SELECT product_id, t1,
               sum(new - least(gone, new) + up)::integer AS added,
               sum(down + gone - least(gone, new))::integer AS sold
        FROM seller_flows
        GROUP BY product_id, t1
    ) f ON f.product_id = pp.product_id AND f.t1 = pp.t1
    WHERE s.product_id = pp.product_id AND s.observed_at = pp.t1 AND s.marketplace = p_marketplace;

    SELECT count(*) INTO pairs FROM pending_pairs WHERE diffable;
    RETURN NEXT;
END;
$$;

-- After an inference setting changed (max_sale_premium, max_snapshot_gap_hours): derive the listing
-- changes and inferred sales of every snapshot observed from p_from on again. Inferred sales and
-- listing events are derived data (the snapshots they come from stay), so they are deleted and
-- inferred anew, marketplace by marketplace, in this one transaction.
CREATE OR REPLACE FUNCTION reinfer_listing_changes(p_from timestamptz)
RETURNS TABLE (marketplace text, pairs integer, inferred_sales integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_code text;
BEGIN
    DELETE FROM sales s WHERE s.basis = 'inferred' AND s.sold_at >= p_from;
    DELETE FROM listing_events e WHERE e.observed_at >= p_from;
    UPDATE snapshots s
    SET diffed = false, prev_observed_at = NULL, units_added = NULL, units_inferred_sold = NULL
    WHERE s.observed_at >= p_from AND s.diffed;
    FOR v_code IN SELECT code FROM marketplaces ORDER BY code LOOP
        marketplace := v_code;
        SELECT i.pairs, i.inferred_sales INTO pairs, inferred_sales FROM infer_listing_changes(v_code) i;
        RETURN NEXT;
    END LOOP;
END;
$$;
