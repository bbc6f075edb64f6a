SELECT path, checksum FROM schema_repeatables;
