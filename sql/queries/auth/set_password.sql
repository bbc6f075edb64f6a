UPDATE users SET password_hash = %(password_hash)s, password_changed_at = now() WHERE id = %(id)s;
