UPDATE games SET name = %(name)s WHERE code = %(code)s RETURNING code, name;
