DELETE FROM pipeline_requests WHERE id <= %(last_id)s;
