UPDATE products SET active = false, updated_at = now() WHERE id = %(id)s RETURNING id;
