INSERT INTO account_tokens (token_hash, user_id, purpose, email, expires_at)
VALUES (%(token_hash)s, %(user_id)s, %(purpose)s, %(email)s, now() + %(ttl)s::interval);
