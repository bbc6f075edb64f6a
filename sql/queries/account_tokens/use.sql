-- Spend a token: only an unused, unexpired one of this purpose, still for the account's address.
-- Returns nothing for a wrong, spent or expired token.
UPDATE account_tokens t SET used_at = now()
FROM users u
WHERE t.token_hash = %(token_hash)s AND t.purpose = %(purpose)s AND t.used_at IS NULL
  AND t.expires_at > now() AND u.id = t.user_id AND u.email = t.email
RETURNING t.user_id, u.email;
