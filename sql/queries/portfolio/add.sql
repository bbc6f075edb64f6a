INSERT INTO holdings (user_id, product_id, quantity, unit_cost, acquired_on, notes)
VALUES (%(user_id)s, %(product_id)s, %(quantity)s, %(unit_cost)s, coalesce(%(acquired_on)s, current_date), %(notes)s)
RETURNING id;
