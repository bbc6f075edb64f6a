UPDATE holdings
SET quantity = coalesce(%(quantity)s, quantity), unit_cost = coalesce(%(unit_cost)s, unit_cost),
    acquired_on = coalesce(%(acquired_on)s, acquired_on),
    notes = CASE WHEN %(notes_given)s THEN %(notes)s ELSE notes END
WHERE id = %(id)s AND user_id = %(user_id)s
RETURNING id;
