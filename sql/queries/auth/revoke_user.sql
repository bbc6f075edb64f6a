-- A password change: every session of the account ends.
UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE user_id = %(user_id)s
RETURNING family;
