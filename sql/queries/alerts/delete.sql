DELETE FROM alerts WHERE id = %(id)s AND user_id = %(user_id)s RETURNING id;
