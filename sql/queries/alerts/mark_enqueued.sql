UPDATE webhook_deliveries SET enqueued_at = now() WHERE id = ANY (%(ids)s);
