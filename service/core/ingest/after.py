"""Listing snapshots are written together with what follows from them, whoever writes them (a
marketplace fetch, the simulated market, a manual import, a replay): the snapshots' summaries and the
listing-change inference (SPEC §3, sql/functions/inference.sql), then the ingest-time `listing_below`
alerts on the listings that appeared.

All of it is one transaction. A complete snapshot committed before its summary would be visible to a
concurrent pipeline run with no floor: the run would roll up a day whose floor is NULL and, having
served the recompute request the snapshot's write made, never look at that day again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from service.core import alerts
from service.core.ingest import writer
from service.core.ingest.records import ListingBatch
from service.core.sql import query


def write_listings(
    conn: psycopg.Connection[Any], batch: ListingBatch, *, run_id: int | None = None, now: datetime | None = None
) -> tuple[writer.WriteResult, int]:
    """Write `batch` (writer.write_listing_batch), infer sales from the listing changes of its products,
    and evaluate the listing alerts over what was observed from its first instant on, in one
    transaction. Returns what was written and the number of inferred sales."""
    with conn.transaction():
        result = writer.write_listing_batch(conn, batch, run_id=run_id, now=now)
        if batch.snapshot_count == 0:
            return result, 0
        product_ids = sorted(set(batch.product_id.tolist()))
        row = (
            conn.cursor(row_factory=psycopg.rows.tuple_row)
            .execute(query("ingest/infer"), {"marketplace": batch.marketplace, "product_ids": product_ids})
            .fetchone()
        )
        alerts.evaluate_listings(conn, batch.marketplace, product_ids, since=min(batch.observed_at))
    return result, int(row[2]) if row else 0
