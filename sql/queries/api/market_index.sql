-- The market index of a scope on a day. Ratios are rounded here, where the answer is read: index
-- points and percentages at 2 places, the fear-and-greed score at 1.
SELECT i.day, i.scope, i.products_priced, i.basket_value_usd, round(i.index_value::numeric, 2) AS index_value,
       round(i.index_change_pct_1d::numeric, 2) AS index_change_pct_1d,
       round(i.index_change_pct_7d::numeric, 2) AS index_change_pct_7d,
       round(i.index_change_pct_30d::numeric, 2) AS index_change_pct_30d,
       i.advancers, i.decliners, i.unchanged, i.volume_usd, i.units_sold, i.active_listings, i.units_added,
       round(i.volume_change_pct_7d::numeric, 2) AS volume_change_pct_7d,
       i.top_gainer_id, g.slug AS top_gainer_slug, g.name AS top_gainer_name,
       round(i.top_gainer_pct::numeric, 2) AS top_gainer_pct,
       i.top_loser_id, l.slug AS top_loser_slug, l.name AS top_loser_name,
       round(i.top_loser_pct::numeric, 2) AS top_loser_pct,
       i.sentiment, round(i.fear_greed::numeric, 1) AS fear_greed, i.fear_greed_label
FROM market_index_daily i
LEFT JOIN products g ON g.id = i.top_gainer_id
LEFT JOIN products l ON l.id = i.top_loser_id
WHERE i.scope = %(scope)s AND i.day = %(day)s;
