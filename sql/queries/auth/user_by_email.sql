SELECT id, email, role, password_hash, created_at,
       email_verified_at IS NOT NULL AS email_verified, alert_emails
FROM users WHERE email = %(email)s;
