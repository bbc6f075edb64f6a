-- A marketplace an adapter declares (service/core/marketplaces.py): inserted, or updated to match the
-- declaration. Returns a row only when something changed.
INSERT INTO marketplaces AS m (code, name, has_sold_feed, market_price_source, simulated)
VALUES (%(code)s, %(name)s, %(has_sold_feed)s, %(market_price_source)s, false)
ON CONFLICT (code) DO UPDATE
SET name = EXCLUDED.name,
    has_sold_feed = EXCLUDED.has_sold_feed,
    market_price_source = EXCLUDED.market_price_source,
    simulated = false
WHERE (m.name, m.has_sold_feed, m.market_price_source, m.simulated)
      IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.has_sold_feed, EXCLUDED.market_price_source, false)
RETURNING code;
