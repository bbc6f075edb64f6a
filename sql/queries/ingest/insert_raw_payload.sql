INSERT INTO raw_payloads (fetched_at, ingest_run_id, marketplace, request, status, body, context)
VALUES (%(fetched_at)s, %(run_id)s, %(marketplace)s, %(request)s, %(status)s, %(body)s, %(context)s);
