UPDATE ingest_runs SET http_errors = %(http_errors)s, replay_of = coalesce(%(replay_of)s, replay_of) WHERE id = %(run_id)s;
