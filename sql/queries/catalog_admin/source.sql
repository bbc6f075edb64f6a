SELECT id, product_id, marketplace, external_id, search_query, category_id, price_min_usd, price_max_usd,
       exclude_terms, active
FROM product_sources
WHERE id = %(id)s;
