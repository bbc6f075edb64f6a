-- Sign-out: every refresh token of the session is revoked; its access tokens are refused from now on
-- (a session is revoked when any of its refresh tokens is).
UPDATE refresh_tokens SET revoked_at = now() WHERE family = %(family)s AND revoked_at IS NULL
RETURNING family;
