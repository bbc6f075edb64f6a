-- Drop whole chunks of raw payloads older than the retention setting (works on both editions;
-- chunks are one day wide, so at most a day more than the setting is kept).
SELECT count(*) AS dropped
FROM drop_chunks('raw_payloads', older_than => now() - make_interval(days => setting('raw_payload_retention_days')::integer));
