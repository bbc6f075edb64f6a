-- Catalog facts are refreshed from the file; what admins curate (risk, supply, notes, image, active)
-- is left alone. Returns the id and whether the row is new (xmax = 0 on a fresh insert).
INSERT INTO products (slug, game, set_code, set_name, name, product_type, release_date, msrp_usd, packs_per_box)
VALUES (%(slug)s, %(game)s, %(set_code)s, %(set_name)s, %(name)s, %(product_type)s, %(release_date)s,
        %(msrp_usd)s, %(packs_per_box)s)
ON CONFLICT (slug) DO UPDATE SET
    game = excluded.game, set_code = excluded.set_code, set_name = excluded.set_name, name = excluded.name,
    product_type = excluded.product_type, release_date = excluded.release_date, msrp_usd = excluded.msrp_usd,
    packs_per_box = excluded.packs_per_box,
    updated_at = CASE
        WHEN (products.game, products.set_code, products.set_name, products.name, products.product_type,
              products.release_date, products.msrp_usd, products.packs_per_box)
             IS DISTINCT FROM
             (excluded.game, excluded.set_code, excluded.set_name, excluded.name, excluded.product_type,
              excluded.release_date, excluded.msrp_usd, excluded.packs_per_box)
        THEN now() ELSE products.updated_at END
RETURNING id, (xmax = 0) AS inserted;
