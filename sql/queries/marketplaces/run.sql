SELECT id, kind, marketplace, product_ids, status FROM ingest_runs WHERE id = %(run_id)s;
