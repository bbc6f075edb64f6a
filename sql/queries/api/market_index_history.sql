-- The index day by day, rounded as GET /market/index rounds it.
SELECT day, round(index_value::numeric, 2) AS index_value, basket_value_usd,
       round(index_change_pct_1d::numeric, 2) AS index_change_pct_1d, volume_usd, units_sold, sentiment,
       round(fear_greed::numeric, 1) AS fear_greed, fear_greed_label
FROM market_index_daily
WHERE scope = %(scope)s AND day BETWEEN %(from)s AND %(to)s
ORDER BY day;
