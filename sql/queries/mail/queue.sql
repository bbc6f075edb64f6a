-- An account e-mail (verification, password reset) to send; the job makes its token when it sends.
INSERT INTO emails (user_id, kind) VALUES (%(user_id)s, %(kind)s) RETURNING id;
