-- P&L percentages at 2 places (the function keeps them exact for the totals).
SELECT id, quantity, unit_cost, acquired_on, notes, product_id, slug, name, game, valued_on, unit_value, cost_basis,
       value, pnl_usd, round(pnl_pct::numeric, 2) AS pnl_pct
FROM portfolio_valuation(%(user_id)s)
ORDER BY acquired_on DESC, id;
