-- The refresh window aligned inward to whole buckets, as refresh_continuous_aggregate does:
-- only buckets that lie entirely inside [start, end) are recomputed. NULL means unbounded.
SELECT d.mode, d.definition,
       CASE WHEN %(start)s::timestamptz IS NULL THEN NULL
            WHEN time_bucket(d.bucket_width, %(start)s::timestamptz) = %(start)s::timestamptz THEN %(start)s::timestamptz
            ELSE time_bucket(d.bucket_width, %(start)s::timestamptz) + d.bucket_width
       END AS window_start,
       CASE WHEN %(end)s::timestamptz IS NULL THEN NULL
            ELSE time_bucket(d.bucket_width, %(end)s::timestamptz)
       END AS window_end
FROM rollup_definitions d
WHERE d.name = %(name)s;
