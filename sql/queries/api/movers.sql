SELECT mv.direction, mv.place, mv.price_before, mv.price_now, mv.change_usd, round(mv.change_pct::numeric, 2) AS change_pct,
       mv.active_listings,
       p.id, p.slug, p.name, p.game, p.set_code, p.set_name, p.product_type, p.release_date, p.image_url,
       p.reprint_risk
FROM movers(%(day)s, %(metric)s, %(days)s, %(limit)s) mv
JOIN products p ON p.id = mv.product_id
ORDER BY mv.direction, mv.place;
