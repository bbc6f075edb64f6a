-- Returns how many sales were new and the earliest of them (the first day the pipeline must redo).
WITH inserted AS (
    INSERT INTO sales (sold_at, product_id, marketplace, sale_key, unit_price, shipping, quantity, basis, listing_id,
                       ingest_run_id)
    SELECT sold_at, product_id, marketplace, sale_key, unit_price, shipping, quantity, basis, listing_id, ingest_run_id
    FROM staged_sales
    ON CONFLICT (marketplace, sale_key, sold_at) DO NOTHING
    RETURNING sold_at
)
SELECT count(*), min(sold_at) FROM inserted;
