UPDATE users SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = %(id)s;
