INSERT INTO webhooks (user_id, url, secret) VALUES (%(user_id)s, %(url)s, %(secret)s)
ON CONFLICT (user_id) DO UPDATE SET url = excluded.url, secret = excluded.secret, created_at = now()
RETURNING url, secret, created_at;
