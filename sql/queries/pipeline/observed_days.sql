-- The span of days with any observation: what a full recompute covers.
SELECT min(day)::date AS first_day, max(day)::date AS last_day
FROM (
    SELECT min(observed_at) AS day FROM snapshots
    UNION ALL SELECT max(observed_at) FROM snapshots
    UNION ALL SELECT min(sold_at) FROM sales
    UNION ALL SELECT max(sold_at) FROM sales
    UNION ALL SELECT min(observed_at) FROM price_points
    UNION ALL SELECT max(observed_at) FROM price_points
) d;
