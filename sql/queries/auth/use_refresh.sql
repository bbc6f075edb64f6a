-- Mark a refresh token used; returns nothing when it was already used or revoked (a reuse).
UPDATE refresh_tokens SET used_at = now()
WHERE jti = %(jti)s AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
RETURNING family, user_id;
