INSERT INTO games (code, name) VALUES (%(code)s, %(name)s) RETURNING code, name;
