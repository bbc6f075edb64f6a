SELECT id FROM products WHERE id = ANY(%(ids)s::integer[]);
