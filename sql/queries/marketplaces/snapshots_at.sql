-- Products whose snapshot at this instant is already registered (a retried job skips them).
SELECT product_id FROM snapshots
WHERE marketplace = %(marketplace)s AND observed_at = %(observed_at)s AND product_id = ANY (%(product_ids)s::integer[]);
