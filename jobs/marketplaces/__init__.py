"""Marketplace adapters: TCGplayer (official API and the tcgcsv price mirror) and eBay.

Each adapter speaks HTTP through the shared client (jobs/marketplaces/http.py: rate limit, retries,
token renewal, quota circuit, raw payloads) and turns responses into plain ingest records with pure
parsers, so a run's stored payloads can be replayed through the same code (jobs/marketplaces/replay.py).
"""
