SELECT i.*, g.slug AS top_gainer_slug, g.name AS top_gainer_name, l.slug AS top_loser_slug, l.name AS top_loser_name
FROM market_index_daily i
LEFT JOIN products g ON g.id = i.top_gainer_id
LEFT JOIN products l ON l.id = i.top_loser_id
WHERE i.scope = %(scope)s AND i.day = %(day)s;
