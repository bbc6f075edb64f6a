-- volume_24h gets a column of its own: the sales volume of the last 24 hours (SPEC §5), which for the
-- latest day is the 24 hours up to the hour of the latest observation, not the UTC calendar day
-- (volume_usd, the flow every indicator sums). On every other day the two are equal, so existing rows
-- take volume_usd; the next pipeline run rewrites the latest day (sql/functions/metrics.sql).
-- The view metric_rows served volume_usd under this name: it is re-created with the new column when
-- the catalogue's columns change (service/core/metrics.py); dropping it first lets this run alone.
DROP VIEW IF EXISTS metric_rows;
DELETE FROM schema_repeatables WHERE path = 'views/metric_rows.sql';
ALTER TABLE product_metrics_daily ADD COLUMN volume_24h numeric(14, 2);
UPDATE product_metrics_daily SET volume_24h = volume_usd;
ALTER TABLE product_metrics_daily ALTER COLUMN volume_24h SET NOT NULL;
