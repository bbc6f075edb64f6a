SELECT compute_market_index(%(from)s, %(to)s) AS rows;
