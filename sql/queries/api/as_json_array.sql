-- The rows of a nested query as one JSON array of objects with the given fields, in period order,
-- and how many there are.
-- Both placeholders are composed in code: the query, and the fields from whitelisted names.
SELECT coalesce(json_agg(json_build_object({fields}) ORDER BY h.period), '[]')::text AS data, count(*) AS total
FROM ({query}) h;
