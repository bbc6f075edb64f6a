-- E-mails to hand to RQ: never enqueued, or enqueued so long ago that the job must have been lost
-- (its retries would have finished by then).
SELECT id
FROM emails
WHERE status = 'pending' AND (enqueued_at IS NULL OR enqueued_at < now() - %(stale_after)s::interval)
  AND (%(ids)s::bigint[] IS NULL OR id = ANY (%(ids)s::bigint[]))
ORDER BY id
LIMIT %(limit)s;
