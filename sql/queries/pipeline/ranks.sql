SELECT compute_ranks(%(from)s, %(to)s) AS rows;
