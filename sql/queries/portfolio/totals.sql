-- Totals overall (game IS NULL) and per game. A holding without any price counts at cost.
SELECT game,
       coalesce(sum(cost_basis), 0) AS cost_basis,
       coalesce(sum(coalesce(value, cost_basis)), 0) AS value,
       coalesce(sum(coalesce(value, cost_basis)) - sum(cost_basis), 0) AS pnl_usd,
       round((sum(coalesce(value, cost_basis)) - sum(cost_basis)) / nullif(sum(cost_basis), 0) * 100, 2) AS pnl_pct
FROM portfolio_valuation(%(user_id)s)
GROUP BY GROUPING SETS ((), (game));
