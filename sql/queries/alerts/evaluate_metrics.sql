SELECT fired, deliveries FROM evaluate_metric_alerts(%(day)s, coalesce(%(now)s::timestamptz, now()));
