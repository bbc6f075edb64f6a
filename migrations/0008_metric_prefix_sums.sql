-- Running totals from each product's first day, so that a trailing window is a difference of two
-- stored totals (cum(d) - cum(d - N)) and a new day resumes from the day before: O(products).
-- Rows computed before this migration have none: `flask pipeline recompute` fills them (the
-- pipeline also restarts a product from its first day when its last stored row has none).
ALTER TABLE product_metrics_daily
    ADD COLUMN cum_volume_usd  numeric(18, 2),
    ADD COLUMN cum_units_sold  bigint,
    ADD COLUMN cum_units_added bigint,
    ADD COLUMN cum_floor_sum   numeric(18, 2),
    ADD COLUMN cum_floor_days  integer;
