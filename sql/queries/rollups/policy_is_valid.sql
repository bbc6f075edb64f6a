-- TimescaleDB's rule for refresh policies, applied in both modes: the window spans two buckets or more.
SELECT (%(start_offset)s::interval - %(end_offset)s::interval) >= 2 * %(bucket_width)s::interval AS ok;
