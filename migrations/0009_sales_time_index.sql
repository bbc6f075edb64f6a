-- The pipeline reads a window of days of sales across all products (exact daily medians); sales are
-- few next to listings, so a time index is cheap to keep.
CREATE INDEX sales_sold_at ON sales (sold_at DESC);
