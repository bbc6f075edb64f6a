SELECT id, slug FROM products WHERE id = ANY (%(ids)s) OR slug = ANY (%(slugs)s);
