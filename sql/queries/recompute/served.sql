DELETE FROM pipeline_requests WHERE id = ANY (%(ids)s);
