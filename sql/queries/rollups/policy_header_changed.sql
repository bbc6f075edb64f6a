-- Whether a rollup's declared refresh policy differs from the one recorded when it was last
-- synchronised. Compared as intervals: '1 day' and '24 hours' are the same declaration.
SELECT (refresh_start_offset, refresh_end_offset, schedule_interval)
       IS DISTINCT FROM (%(refresh_start_offset)s::interval, %(refresh_end_offset)s::interval,
                         %(schedule_interval)s::interval) AS changed
FROM rollup_definitions
WHERE name = %(name)s;
