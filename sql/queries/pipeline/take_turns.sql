-- Runs that derive metrics, ranks and the index take turns (the scheduled run and an admin's
-- recompute, say): each deletes its window's rows and inserts them again, and a second run's DELETE
-- cannot see rows the first inserted and has not committed, so its INSERT would collide with them.
SELECT pg_advisory_xact_lock(hashtext('pipeline-derived'));
