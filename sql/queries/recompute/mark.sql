INSERT INTO pipeline_requests (from_day, reason) VALUES (%(from_day)s, %(reason)s);
