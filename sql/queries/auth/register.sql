-- Registration: a new account for the address (created = true), or the account it has already
-- (created = false), in one statement either way, so that neither answer nor timing tells them apart.
-- No row only when another registration of the address commits meanwhile.
WITH created AS (
    INSERT INTO users (email, password_hash, role) VALUES (%(email)s, %(password_hash)s, 'user')
    ON CONFLICT (email) DO NOTHING
    RETURNING id
)
SELECT id, true AS created FROM created
UNION ALL
SELECT id, false AS created FROM users WHERE email = %(email)s AND NOT EXISTS (SELECT FROM created);
