-- Sign-out is kept in the database (refresh_tokens.revoked_at, per session) and cached in Redis; after
-- Redis restarts, the sessions ended within an access token's lifetime are loaded back from here.
CREATE INDEX refresh_tokens_revoked ON refresh_tokens (revoked_at) WHERE revoked_at IS NOT NULL;
