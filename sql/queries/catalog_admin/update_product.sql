-- The SET list is built from whitelisted column names (service/api/catalog_admin/routes.py).
UPDATE products SET {assignments}, updated_at = now() WHERE id = %(id)s RETURNING id;
