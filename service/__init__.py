"""BoosterBoxPro: market intelligence for sealed trading-card products.

- `service.core`: settings, database, SQL, Redis keys, schema, ingest: what the API, jobs and CLI share
- `service.api`: the REST API (HTTP), which depends on the core only
- `service.commands`: the command line
- `service.app`: the application factory that wires them together
"""
