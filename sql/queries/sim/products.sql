SELECT id, slug, game, product_type, packs_per_box, release_date
FROM products
WHERE active AND (%(ids)s::integer[] IS NULL OR id = ANY (%(ids)s::integer[]))
ORDER BY id;
