SELECT role FROM users WHERE id = %(id)s;
