UPDATE refresh_tokens SET revoked_at = now() WHERE family = %(family)s AND revoked_at IS NULL;
