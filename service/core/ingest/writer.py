"""The ingest writer: validate records, then COPY them in. Re-running the same batch changes nothing.

Idempotency without per-row keys on the hot table: a listing snapshot is registered in `snapshots`
(unique per product, marketplace and instant) in the same transaction that copies its rows, and
only snapshots registered *now* get their rows copied. A snapshot is written whole or not at all.
Sales and price points have natural unique keys and are inserted with ON CONFLICT DO NOTHING.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg.copy import QueuedLibpqWriter
from psycopg.types.json import Jsonb

from service.core import data_mode, recompute
from service.core.ingest.records import ListingBatch, PricePoint, Sale, to_cents
from service.core.sql import query

# Clocks differ a little; anything further in the future than this is a bad record.
FUTURE_TOLERANCE = timedelta(minutes=5)
COPY_CHUNK_ROWS = 50_000
LISTING_COLUMNS = "observed_at, product_id, marketplace, listing_id, seller_id, unit_price, shipping, quantity"
SALE_COLUMNS = (
    "sold_at, product_id, marketplace, sale_key, unit_price, shipping, quantity, basis, listing_id, ingest_run_id"
)
NULL = "\\N"  # COPY text format's NULL


@dataclass
class WriteResult:
    written: Counter[str] = field(default_factory=Counter)  # rows per table
    rejected: Counter[str] = field(default_factory=Counter)  # rows per reason
    skipped: Counter[str] = field(default_factory=Counter)  # already ingested, per table

    def add(self, other: WriteResult) -> WriteResult:
        self.written.update(other.written)
        self.rejected.update(other.rejected)
        self.skipped.update(other.skipped)
        return self


def _known_products(conn: psycopg.Connection[Any], ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    unique = np.unique(ids)
    rows = conn.cursor(row_factory=psycopg.rows.tuple_row).execute(
        query("ingest/known_products"), {"ids": unique.tolist()}
    )
    return np.array([r[0] for r in rows], dtype=np.int64)


def _bad_times(times: Sequence[datetime], now: datetime) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    naive = np.array([t.tzinfo is None for t in times], dtype=bool)
    horizon = now + FUTURE_TOLERANCE
    future = np.array([t.tzinfo is not None and t > horizon for t in times], dtype=bool)
    return naive, future


def _escape(values: list[str]) -> list[str]:
    """COPY text format: backslash, tab, newline and carriage return must be escaped."""
    if not any(("\\" in v or "\t" in v or "\n" in v or "\r" in v) for v in values):
        return values
    table = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
    return [v.translate(table) for v in values]


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def validate_listings(
    conn: psycopg.Connection[Any], batch: ListingBatch, now: datetime
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], Counter[str]]:
    """Which snapshots and rows may be written, and how many rows were rejected for what."""
    rejected: Counter[str] = Counter()
    snapshot_ok = np.ones(batch.snapshot_count, dtype=bool)
    rows_per_snapshot = np.bincount(batch.snapshot, minlength=batch.snapshot_count)

    def reject_snapshots(mask: npt.NDArray[np.bool_], reason: str) -> None:
        fresh = mask & snapshot_ok
        if fresh.any():
            rejected[reason] += max(int(rows_per_snapshot[fresh].sum()), int(fresh.sum()))
            snapshot_ok[fresh] = False

    reject_snapshots(~np.isin(batch.product_id, _known_products(conn, batch.product_id)), "unknown_product")
    naive, future = _bad_times(batch.observed_at, now)
    reject_snapshots(naive, "timestamp_without_timezone")
    reject_snapshots(future, "timestamp_in_future")
    keys: dict[tuple[int, datetime], int] = {}
    duplicate_snapshot = np.zeros(batch.snapshot_count, dtype=bool)
    for i, snapshot_key in enumerate(zip(batch.product_id.tolist(), batch.observed_at, strict=True)):
        if snapshot_key in keys:
            duplicate_snapshot[i] = True
        keys.setdefault(snapshot_key, i)
    reject_snapshots(duplicate_snapshot, "duplicate_in_batch")

    row_ok = snapshot_ok[batch.snapshot]
    checks = [
        (batch.price_cents <= 0, "invalid_price"),
        (batch.shipping_cents < 0, "invalid_shipping"),
        (batch.quantity <= 0, "invalid_quantity"),
        (np.array([not v for v in batch.listing_id], dtype=bool), "missing_listing_id"),
    ]
    if batch.foreign_currency is not None:
        checks.append((batch.foreign_currency, "wrong_currency"))
    for bad, reason in checks:
        fresh = bad & row_ok
        if fresh.any():
            rejected[reason] += int(fresh.sum())
            row_ok &= ~bad
    seen: set[tuple[int, str]] = set()
    duplicate_row = np.zeros(batch.row_count, dtype=bool)
    for i, key in enumerate(zip(batch.snapshot.tolist(), batch.listing_id, strict=True)):
        if key in seen:
            duplicate_row[i] = True
        seen.add(key)
    fresh = duplicate_row & row_ok
    if fresh.any():
        rejected["duplicate_in_batch"] += int(fresh.sum())
        row_ok &= ~duplicate_row
    return snapshot_ok, row_ok, rejected


def _listing_lines(batch: ListingBatch, rows: npt.NDArray[np.int64]) -> Iterator[str]:
    stamps = [t.astimezone(UTC).isoformat() for t in batch.observed_at]
    products = batch.product_id.tolist()
    market = batch.marketplace
    for start in range(0, len(rows), COPY_CHUNK_ROWS):
        chunk = rows[start : start + COPY_CHUNK_ROWS]
        snaps = batch.snapshot[chunk].tolist()
        listing_ids = _escape([batch.listing_id[i] for i in chunk.tolist()])
        seller_ids = _escape([batch.seller_id[i] for i in chunk.tolist()])
        prices = batch.price_cents[chunk].tolist()
        shipping = batch.shipping_cents[chunk].tolist()
        quantity = batch.quantity[chunk].tolist()
        yield "".join(
            [
                f"{stamps[s]}\t{products[s]}\t{market}\t{lid}\t{sid}\t{p // 100}.{p % 100:02d}\t"
                f"{sh // 100}.{sh % 100:02d}\t{q}\n"
                for s, lid, sid, p, sh, q in zip(
                    snaps, listing_ids, seller_ids, prices, shipping, quantity, strict=True
                )
            ]
        )


def write_listing_batch(
    conn: psycopg.Connection[Any], batch: ListingBatch, *, run_id: int | None = None, now: datetime | None = None
) -> WriteResult:
    """Validate and write listing snapshots in one transaction; snapshots seen before are skipped."""
    result = WriteResult()
    if batch.snapshot_count == 0:
        return result
    snapshot_ok, row_ok, result.rejected = validate_listings(conn, batch, now or datetime.now(UTC))
    valid_rows = np.flatnonzero(row_ok)
    counts = np.bincount(batch.snapshot[valid_rows], minlength=batch.snapshot_count)
    units = np.bincount(batch.snapshot[valid_rows], weights=batch.quantity[valid_rows], minlength=batch.snapshot_count)
    candidates = np.flatnonzero(snapshot_ok)
    with conn.transaction():
        data_mode.check_marketplace(conn, batch.marketplace)
        registered = conn.cursor(row_factory=psycopg.rows.tuple_row).execute(
            query("ingest/register_snapshots"),
            {
                "marketplace": batch.marketplace,
                "run_id": run_id,
                "observed_at": [batch.observed_at[i] for i in candidates.tolist()],
                "product_id": batch.product_id[candidates].tolist(),
                "complete": batch.complete[candidates].tolist(),
                "listing_count": counts[candidates].tolist(),
                "units": units[candidates].astype(np.int64).tolist(),
            },
        )
        new_keys = {(pid, ts) for pid, ts in registered}
        is_new = np.zeros(batch.snapshot_count, dtype=bool)
        for i in candidates.tolist():
            is_new[i] = (int(batch.product_id[i]), batch.observed_at[i]) in new_keys
        result.written["snapshots"] = int(is_new.sum())
        if new_keys:
            recompute.mark(conn, min(ts for _, ts in new_keys), f"{batch.marketplace} listings")
        result.skipped["snapshots"] = len(candidates) - int(is_new.sum())
        # Only complete snapshots' rows are stored: nothing may use a partial book, and the raw
        # payloads keep what was fetched. The registry still records the incomplete snapshot.
        is_new_complete = is_new & batch.complete
        rows = valid_rows[is_new_complete[batch.snapshot[valid_rows]]]
        if len(rows):
            # The queued writer sends on its own thread, so formatting the next chunk here
            # overlaps with the server parsing the previous one.
            with (
                conn.cursor() as cur,
                cur.copy(
                    f"COPY listing_snapshots ({LISTING_COLUMNS}) FROM STDIN", writer=QueuedLibpqWriter(cur)
                ) as copy,
            ):
                for text in _listing_lines(batch, rows):
                    copy.write(text)
        result.written["listing_snapshots"] = len(rows)
        result.skipped["listing_snapshots"] = len(valid_rows) - len(rows)
    return result


def write_sales(
    conn: psycopg.Connection[Any],
    marketplace: str,
    sales: Sequence[Sale],
    *,
    basis: str = "reported",
    run_id: int | None = None,
    now: datetime | None = None,
) -> WriteResult:
    result = WriteResult()
    if not sales:
        return result
    now = now or datetime.now(UTC)
    known = set(_known_products(conn, np.array([s.product_id for s in sales], dtype=np.int64)).tolist())
    seen: set[str] = set()
    lines: list[str] = []
    for sale in sales:
        price, shipping = to_cents(sale.unit_price), to_cents(sale.shipping)
        reason = (
            "unknown_product" if sale.product_id not in known
            else "timestamp_without_timezone" if sale.sold_at.tzinfo is None
            else "timestamp_in_future" if sale.sold_at > now + FUTURE_TOLERANCE
            else "wrong_currency" if sale.currency.upper() != "USD"
            else "invalid_price" if price <= 0
            else "invalid_shipping" if shipping < 0
            else "invalid_quantity" if sale.quantity <= 0
            else "missing_sale_key" if not sale.sale_key
            else "duplicate_in_batch" if sale.sale_key in seen
            else None
        )  # fmt: skip
        if reason:
            result.rejected[reason] += 1
            continue
        seen.add(sale.sale_key)
        key, listing = _escape([sale.sale_key, sale.listing_id or ""])
        lines.append(
            f"{sale.sold_at.astimezone(UTC).isoformat()}\t{sale.product_id}\t{marketplace}\t{key}\t"
            f"{_money(price)}\t{_money(shipping)}\t{sale.quantity}\t{basis}\t{listing or NULL}\t"
            f"{NULL if run_id is None else run_id}\n"
        )
    if not lines:
        return result
    with conn.transaction(), conn.cursor(row_factory=psycopg.rows.tuple_row) as cur:
        data_mode.check_marketplace(conn, marketplace)
        cur.execute(query("ingest/stage_sales"))
        with cur.copy(f"COPY staged_sales ({SALE_COLUMNS}) FROM STDIN") as copy:
            copy.write("".join(lines))
        inserted = cur.execute(query("ingest/insert_staged_sales")).fetchone()
        count, first = (int(inserted[0]), inserted[1]) if inserted else (0, None)
        result.written["sales"] = count
        result.skipped["sales"] = len(lines) - count
        if first is not None:  # a late sale asks for its own, earlier day
            recompute.mark(conn, first, f"{marketplace} sales")
    return result


PRICE_FIELDS = ("market_price", "low_price", "mid_price", "high_price", "direct_low_price")


def write_price_points(
    conn: psycopg.Connection[Any],
    marketplace: str,
    points: Sequence[PricePoint],
    *,
    run_id: int | None = None,
    now: datetime | None = None,
) -> WriteResult:
    result = WriteResult()
    if not points:
        return result
    now = now or datetime.now(UTC)
    known = set(_known_products(conn, np.array([p.product_id for p in points], dtype=np.int64)).tolist())
    seen: set[tuple[int, datetime]] = set()
    accepted: list[tuple[PricePoint, list[str | None]]] = []
    for point in points:
        cents = [None if getattr(point, f) is None else to_cents(getattr(point, f)) for f in PRICE_FIELDS]
        reason = (
            "unknown_product" if point.product_id not in known
            else "timestamp_without_timezone" if point.observed_at.tzinfo is None
            else "timestamp_in_future" if point.observed_at > now + FUTURE_TOLERANCE
            else "wrong_currency" if point.currency.upper() != "USD"
            else "invalid_price" if any(c is not None and c <= 0 for c in cents) or all(c is None for c in cents)
            else "duplicate_in_batch" if (point.product_id, point.observed_at) in seen
            else None
        )  # fmt: skip
        if reason:
            result.rejected[reason] += 1
            continue
        seen.add((point.product_id, point.observed_at))
        accepted.append((point, [None if c is None else _money(c) for c in cents]))
    if not accepted:
        return result
    params: dict[str, Any] = {
        "marketplace": marketplace,
        "run_id": run_id,
        "observed_at": [p.observed_at for p, _ in accepted],
        "product_id": [p.product_id for p, _ in accepted],
    }
    for index, name in enumerate(PRICE_FIELDS):
        params[name] = [values[index] for _, values in accepted]
    with conn.transaction():
        data_mode.check_marketplace(conn, marketplace)
        inserted = conn.cursor(row_factory=psycopg.rows.tuple_row).execute(query("ingest/insert_price_points"), params)
        row = inserted.fetchone()
        count, first = (int(row[0]), row[1]) if row else (0, None)
        result.written["price_points"] = count
        result.skipped["price_points"] = len(accepted) - count
        if first is not None:
            recompute.mark(conn, first, f"{marketplace} prices")
    return result


def store_raw_payload(
    conn: psycopg.Connection[Any],
    *,
    marketplace: str,
    request: str,
    status: int | None,
    body: Any,
    run_id: int | None,
    fetched_at: datetime | None = None,
    context: dict[str, Any] | None = None,
) -> None:
    """Keep the exact response for audit and replay. Non-JSON bodies are kept as a JSON string.

    `context` says what the call was for (product, snapshot instant, page), for replay.
    """
    conn.execute(
        query("ingest/insert_raw_payload"),
        {
            "fetched_at": fetched_at or datetime.now(UTC),
            "run_id": run_id,
            "marketplace": marketplace,
            "request": request,
            "status": status,
            "body": Jsonb(body if not isinstance(body, bytes | str) else {"raw": _text(body)}),
            "context": None if context is None else Jsonb(context),
        },
    )


def _text(body: bytes | str) -> str:
    return body.decode("utf-8", "replace") if isinstance(body, bytes) else body


def start_run(
    conn: psycopg.Connection[Any],
    kind: str,
    *,
    marketplace: str | None = None,
    product_ids: Sequence[int] | None = None,
    job_id: str | None = None,
) -> int:
    row = (
        conn.cursor(row_factory=psycopg.rows.tuple_row)
        .execute(
            query("ingest/start_run"),
            {
                "kind": kind,
                "marketplace": marketplace,
                "product_ids": list(product_ids) if product_ids else None,
                "job_id": job_id,
            },
        )
        .fetchone()
    )
    assert row is not None
    return int(row[0])


def finish_run(
    conn: psycopg.Connection[Any],
    run_id: int,
    result: WriteResult,
    *,
    status: str = "succeeded",
    http_calls: int = 0,
    error: str | None = None,
) -> None:
    conn.execute(
        query("ingest/finish_run"),
        {
            "run_id": run_id,
            "status": status,
            "rows_written": json.dumps(dict(result.written)),
            "rows_rejected": json.dumps(dict(result.rejected)),
            "http_calls": http_calls,
            "error": error,
        },
    )
