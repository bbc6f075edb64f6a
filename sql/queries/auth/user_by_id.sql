SELECT id, email, role, password_hash, created_at, password_changed_at FROM users WHERE id = %(id)s;
