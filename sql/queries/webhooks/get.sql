SELECT url, created_at FROM webhooks WHERE user_id = %(user_id)s;
