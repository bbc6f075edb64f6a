-- A user's holdings, each valued at its product's latest floor price (else market price), with
-- cost basis and unrealised P&L. Used by the portfolio endpoints (sql/queries/portfolio).
CREATE OR REPLACE FUNCTION portfolio_valuation(p_user_id integer)
RETURNS TABLE (id integer, quantity integer, unit_cost numeric, acquired_on date, notes text, product_id integer,
               slug text, name text, game text, valued_on date, unit_value numeric, cost_basis numeric,
               value numeric, pnl_usd numeric, pnl_pct double precision)
LANGUAGE sql STABLE AS $$
    SELECT h.id, h.quantity, h.unit_cost, h.acquired_on, h.notes, p.id, p.slug, p.name, p.game,
           v.day, v.price,
           h.quantity * h.unit_cost,
           h.quantity * v.price,
           h.quantity * v.price - h.quantity * h.unit_cost,
           ((v.price - h.unit_cost) / nullif(h.unit_cost, 0) * 100)::double precision
    FROM holdings h
    JOIN products p ON p.id = h.product_id
    LEFT JOIN LATERAL (
        SELECT m.day, coalesce(m.floor_price, m.market_price) AS price
        FROM product_metrics_daily m
        WHERE m.product_id = h.product_id AND coalesce(m.floor_price, m.market_price) IS NOT NULL
        ORDER BY m.day DESC
        LIMIT 1
    ) v ON true
    WHERE h.user_id = p_user_id
$$;
