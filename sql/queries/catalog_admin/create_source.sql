INSERT INTO product_sources (product_id, marketplace, external_id, search_query, category_id, price_min_usd,
                             price_max_usd, exclude_terms, active)
VALUES (%(product_id)s, %(marketplace)s, %(external_id)s, %(search_query)s, %(category_id)s, %(price_min_usd)s,
        %(price_max_usd)s, coalesce(%(exclude_terms)s, ARRAY[]::text[]), coalesce(%(active)s, true))
RETURNING id;
