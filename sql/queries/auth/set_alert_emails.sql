UPDATE users SET alert_emails = %(alert_emails)s WHERE id = %(id)s
RETURNING id, email, role, created_at, email_verified_at IS NOT NULL AS email_verified, alert_emails;
