SELECT id, email, role, password_hash, created_at FROM users WHERE email = %(email)s;
