SELECT g.code, g.name, count(p.id) FILTER (WHERE p.active) AS products
FROM games g
LEFT JOIN products p ON p.game = g.code
GROUP BY g.code, g.name
ORDER BY g.name;
