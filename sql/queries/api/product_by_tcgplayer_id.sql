SELECT p.id FROM product_sources s JOIN products p ON p.id = s.product_id
WHERE s.marketplace = 'tcgplayer' AND s.external_id = %(external_id)s AND p.active
ORDER BY p.id LIMIT 1;
