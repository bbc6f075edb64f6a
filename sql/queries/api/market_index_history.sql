SELECT day, index_value, basket_value_usd, index_change_pct_1d, volume_usd, units_sold, sentiment, fear_greed,
       fear_greed_label
FROM market_index_daily
WHERE scope = %(scope)s AND day BETWEEN %(from)s AND %(to)s
ORDER BY day;
