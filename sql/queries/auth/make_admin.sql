UPDATE users SET role = 'admin' WHERE email = %(email)s RETURNING id;
