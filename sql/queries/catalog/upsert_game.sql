INSERT INTO games (code, name) VALUES (%(code)s, %(name)s)
ON CONFLICT (code) DO NOTHING;
