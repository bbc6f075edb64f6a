SELECT count(*) OVER () AS total, *
FROM alert_rows
WHERE user_id = %(user_id)s
ORDER BY id DESC
LIMIT %(limit)s OFFSET %(offset)s;
