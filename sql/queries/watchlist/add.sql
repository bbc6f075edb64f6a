-- Watch a product; watching it again changes nothing. The no-op update of an existing row locks it
-- until the caller's transaction ends, so the item read back in that transaction cannot be deleted
-- in between by a concurrent request (a new row is invisible to others until then anyway).
INSERT INTO watchlist_items AS w (user_id, product_id) VALUES (%(user_id)s, %(product_id)s)
ON CONFLICT (user_id, product_id) DO UPDATE SET added_at = w.added_at
RETURNING added_at;
