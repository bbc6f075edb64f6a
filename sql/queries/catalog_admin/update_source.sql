-- The SET list is built from whitelisted column names (service/api/catalog_admin/routes.py).
UPDATE product_sources SET {assignments} WHERE id = %(id)s RETURNING id;
