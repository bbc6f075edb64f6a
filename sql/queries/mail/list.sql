-- A user's recent e-mails and what became of them (GET /me: the last one's fate).
SELECT id, kind, status, attempts, last_error, created_at, finished_at
FROM emails WHERE user_id = %(user_id)s ORDER BY id DESC LIMIT %(limit)s;
