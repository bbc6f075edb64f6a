SELECT fired, deliveries
FROM evaluate_listing_alerts(%(marketplace)s, %(product_ids)s, %(since)s, coalesce(%(now)s::timestamptz, now()));
