-- A product's day of metrics as the API shows it: the public metric columns under their API names,
-- and their labels, which are computed here and nowhere else. The leaderboard, the watchlist, product
-- detail, catalog search and price check read it. The metric columns (the name in braces below) are
-- the catalogue's list (service/core/metrics.py), filled in when this file is applied
-- (service/core/migrations.py). Dropped and created rather than replaced: CREATE OR REPLACE VIEW may
-- only add columns at the end, and a metric may join the catalogue anywhere.
DROP VIEW IF EXISTS metric_rows;
CREATE VIEW metric_rows AS
SELECT m.product_id, m.day,
       {metric_columns},
       liquidity_label(m.liquidity_score) AS liquidity_label
FROM product_metrics_daily m;
