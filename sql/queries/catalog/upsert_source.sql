INSERT INTO product_sources (product_id, marketplace, external_id, search_query, exclude_terms)
VALUES (%(product_id)s, %(marketplace)s, %(external_id)s, %(search_query)s, %(exclude_terms)s)
ON CONFLICT (product_id, marketplace) DO UPDATE SET
    external_id = excluded.external_id,
    search_query = COALESCE(product_sources.search_query, excluded.search_query);
