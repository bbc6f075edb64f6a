-- A spent refresh token presented again: the whole session ends.
UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, now())
WHERE family = (SELECT family FROM refresh_tokens WHERE jti = %(jti)s)
RETURNING family;
