INSERT INTO products (slug, game, name, product_type, set_code, set_name, language, release_date, msrp_usd,
                      packs_per_box, image_override_url, reprint_risk, estimated_total_supply, notes, active)
VALUES (%(slug)s, %(game)s, %(name)s, %(product_type)s, %(set_code)s, %(set_name)s, coalesce(%(language)s, 'en'),
        %(release_date)s, %(msrp_usd)s, %(packs_per_box)s, %(image_override_url)s, coalesce(%(reprint_risk)s, 'UNCONFIRMED'),
        %(estimated_total_supply)s, %(notes)s, coalesce(%(active)s, true))
RETURNING id;
