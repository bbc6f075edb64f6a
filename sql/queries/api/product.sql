SELECT id, slug, name, game, set_code, set_name, product_type, language, release_date, msrp_usd, packs_per_box,
       image_url, reprint_risk, estimated_total_supply, notes, active
FROM products
WHERE id = %(id)s OR slug = %(slug)s;
