-- Images are stored by content: the same bytes twice are one row.
INSERT INTO images (sha256, content_type, data)
VALUES (%(sha256)s, %(content_type)s, %(data)s)
ON CONFLICT (sha256) DO NOTHING;
