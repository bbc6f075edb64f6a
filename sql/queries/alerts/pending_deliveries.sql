-- Deliveries to hand to RQ: never enqueued, or enqueued so long ago that the job must have been lost
-- (its retries would have finished by then).
SELECT id
FROM webhook_deliveries
WHERE status = 'pending' AND (enqueued_at IS NULL OR enqueued_at < now() - %(stale_after)s::interval)
ORDER BY id
LIMIT %(limit)s;
