INSERT INTO watchlist_items (user_id, product_id) VALUES (%(user_id)s, %(product_id)s)
ON CONFLICT DO NOTHING
RETURNING added_at;
