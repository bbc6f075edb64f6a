UPDATE emails SET enqueued_at = now() WHERE id = ANY (%(ids)s);
