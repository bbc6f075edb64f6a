"""Marketplace adapters: TCGplayer (official API and the tcgcsv price mirror) and eBay.

- `base.py`: the contract an adapter fulfils; `registry.py`: the list of adapter modules;
- `fetch.py`: what every fetch job shares (the ingest run, the pinned instant, deferral, the fan-out);
- `replay.py`: a run's stored payloads re-parsed through the adapter that wrote them;
- `http.py`, `ratelimit.py`, `tokens.py`, `config.py`: the HTTP layer every adapter calls through
  (rate limit, retries, token renewal, quota circuit, raw payloads) and its settings;
- `sources.py`, `filters.py`: how a marketplace names our products, and the title filters;
- one adapter module per marketplace (`ebay.py`, `tcgplayer.py`), with its settings, client and pure
  parsers beside it (`ebay_api.py`, `tcgplayer_api.py`), so a run's stored payloads can be replayed
  through the same code.
"""
