INSERT INTO refresh_tokens (jti, family, user_id, expires_at) VALUES (%(jti)s, %(family)s, %(user_id)s, %(expires_at)s);
