-- The best text match: every word must appear; the shortest name wins (the most specific product).
SELECT p.id FROM products p
WHERE p.active AND p.name ILIKE ALL (%(patterns)s::text[])
ORDER BY length(p.name), p.id
LIMIT 1;
