DELETE FROM webhooks WHERE user_id = %(user_id)s RETURNING user_id;
