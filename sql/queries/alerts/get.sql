SELECT * FROM alert_rows WHERE id = %(id)s AND user_id = %(user_id)s;
