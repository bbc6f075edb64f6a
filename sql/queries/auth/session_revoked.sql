SELECT EXISTS (SELECT 1 FROM refresh_tokens WHERE family = %(family)s AND revoked_at IS NOT NULL) AS revoked;
