INSERT INTO users (email, password_hash, role) VALUES (%(email)s, %(password_hash)s, %(role)s)
ON CONFLICT (email) DO NOTHING
RETURNING id, email, role, created_at, email_verified_at IS NOT NULL AS email_verified, alert_emails;
