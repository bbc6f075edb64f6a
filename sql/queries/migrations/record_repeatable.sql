INSERT INTO schema_repeatables (path, checksum) VALUES (%(path)s, %(checksum)s)
ON CONFLICT (path) DO UPDATE SET checksum = excluded.checksum, applied_at = now();
