-- Delete what has served its purpose longer ago than the `record_retention_days` setting: finished
-- e-mails and webhook deliveries (the outboxes, kept meanwhile to say what was sent and what failed),
-- and account tokens and refresh tokens past their expiry (no longer accepted: a refresh token's
-- family is only checked for reuse while its tokens are valid). Pending work is never touched.
-- Once a day, so plain scans: none of these tables is indexed by age.
WITH cutoff AS (
    SELECT now() - make_interval(days => setting('record_retention_days')::integer) AS at
), deleted_emails AS (
    DELETE FROM emails
    WHERE status <> 'pending' AND coalesce(finished_at, created_at) < (SELECT at FROM cutoff)
    RETURNING 1
), deleted_deliveries AS (
    DELETE FROM webhook_deliveries
    WHERE status <> 'pending' AND coalesce(finished_at, created_at) < (SELECT at FROM cutoff)
    RETURNING 1
), deleted_account_tokens AS (
    DELETE FROM account_tokens WHERE expires_at < (SELECT at FROM cutoff) RETURNING 1
), deleted_refresh_tokens AS (
    DELETE FROM refresh_tokens WHERE expires_at < (SELECT at FROM cutoff) RETURNING 1
)
SELECT (SELECT count(*) FROM deleted_emails) AS emails,
       (SELECT count(*) FROM deleted_deliveries) AS webhook_deliveries,
       (SELECT count(*) FROM deleted_account_tokens) AS account_tokens,
       (SELECT count(*) FROM deleted_refresh_tokens) AS refresh_tokens;
