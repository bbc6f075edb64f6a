"""Ingest: adapters return plain records; the writer validates them and COPYs them in, idempotently."""
