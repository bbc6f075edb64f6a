"""What follows every write of listing snapshots, whoever wrote them (a marketplace fetch, the
simulated market, a manual import, a replay): listing-change inference over the new snapshots
(SPEC §3, sql/functions/inference.sql), then the ingest-time `listing_below` alerts on the listings
that appeared. Run it in the writing transaction, so the observations and what they imply land together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg

from service.core import alerts
from service.core.sql import query


def after_listings(conn: psycopg.Connection[Any], marketplace: str, product_ids: Sequence[int], since: datetime) -> int:
    """Infer sales from the listing changes of `product_ids` on `marketplace`, then evaluate the
    listing alerts over what was observed from `since` on. Returns the number of inferred sales."""
    if not product_ids:
        return 0
    ids = list(product_ids)
    row = (
        conn.cursor(row_factory=psycopg.rows.tuple_row)
        .execute(query("ingest/infer"), {"marketplace": marketplace, "product_ids": ids})
        .fetchone()
    )
    alerts.evaluate_listings(conn, marketplace, ids, since=since)
    return int(row[2]) if row else 0
