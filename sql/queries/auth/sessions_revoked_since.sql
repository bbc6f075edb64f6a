-- Sessions ended recently enough that their access tokens may still be unexpired.
SELECT family, max(revoked_at) AS revoked_at
FROM refresh_tokens
WHERE revoked_at > now() - %(window)s::interval
GROUP BY family;
