DELETE FROM holdings WHERE id = %(id)s AND user_id = %(user_id)s RETURNING id;
