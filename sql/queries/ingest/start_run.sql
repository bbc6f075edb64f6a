INSERT INTO ingest_runs (kind, marketplace, product_ids, job_id)
VALUES (%(kind)s, %(marketplace)s, %(product_ids)s, %(job_id)s)
RETURNING id;
