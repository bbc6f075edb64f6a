-- Returns how many price points were new and the earliest of them (the first day the pipeline must redo).
WITH inserted AS (
    INSERT INTO price_points (observed_at, product_id, marketplace, market_price, low_price, mid_price, high_price,
                              direct_low_price, ingest_run_id)
    SELECT p.observed_at, p.product_id, %(marketplace)s, p.market_price, p.low_price, p.mid_price, p.high_price,
           p.direct_low_price, %(run_id)s
    FROM unnest(%(observed_at)s::timestamptz[], %(product_id)s::integer[], %(market_price)s::numeric[],
                %(low_price)s::numeric[], %(mid_price)s::numeric[], %(high_price)s::numeric[],
                %(direct_low_price)s::numeric[])
         AS p (observed_at, product_id, market_price, low_price, mid_price, high_price, direct_low_price)
    ON CONFLICT (product_id, marketplace, observed_at) DO NOTHING
    RETURNING observed_at
)
SELECT count(*), min(observed_at) FROM inserted;
