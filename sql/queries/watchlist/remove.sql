DELETE FROM watchlist_items WHERE user_id = %(user_id)s AND product_id = %(product_id)s RETURNING product_id;
