"""The `marketplaces` table: one row per marketplace whose observations are stored, with the two
facts the SQL reads about it. The simulated and manual marketplaces are seeded by migration 0003; a
marketplace adapter declares its own row (jobs/marketplaces/registry.py) and `flask db upgrade` writes
the declarations, so adding an adapter needs no migration.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import psycopg

from service.core.sql import query


@dataclass(frozen=True)
class Marketplace:
    code: str  # as stored in every observation's `marketplace` column
    name: str
    # It reports its sales, so none are inferred from its listing changes (SPEC §3).
    has_sold_feed: bool
    # Its price points count as TCGplayer market prices (SPEC §4).
    market_price_source: bool


def declare(conn: psycopg.Connection[Any], marketplaces: Iterable[Marketplace]) -> list[str]:
    """Insert each declared row, or bring an existing one in line with its declaration. Rows of
    marketplaces no longer declared stay: their observations still refer to them. Returns the codes
    of the rows that changed."""
    changed = []
    for marketplace in marketplaces:
        if conn.execute(query("marketplaces/declare"), asdict(marketplace)).fetchone():
            changed.append(marketplace.code)
    return changed
