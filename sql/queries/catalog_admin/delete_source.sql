DELETE FROM product_sources WHERE id = %(id)s RETURNING id;
