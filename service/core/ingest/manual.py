"""Manual import of listings, sales and price points (JSON rows or CSV), through the ingest writer.

A file is validated row by row first; if any row is wrong nothing is written and every problem is
reported with its row number. A valid file is written in one transaction (all or nothing), and
importing it again changes nothing: snapshots are keyed by (product, marketplace, time), sales by
their key (a hash of the row when none is given), price points by (product, marketplace, time).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service.core.ingest import writer
from service.core.ingest.after import write_listings
from service.core.ingest.records import Listing, ListingBatch, PricePoint, Sale, Snapshot
from service.core.sql import query

MAX_ROWS = 50_000
KINDS = ("listings", "sales", "prices")
FUTURE_TOLERANCE = timedelta(minutes=5)
PRICE = validate.Range(min=0.01, max=1_000_000)


class AwareDateTime(fields.AwareDateTime):
    """A timestamp with its time zone, not in the future."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> datetime:
        parsed: datetime = super()._deserialize(value, attr, data, **kwargs)
        if parsed > datetime.now(UTC) + FUTURE_TOLERANCE:
            raise ValidationError("is in the future")
        return parsed


class _Row(Schema):
    product = fields.String(required=True, validate=validate.Length(1, 200), metadata={"description": "id or slug"})


class ListingRow(_Row):
    observed_at = AwareDateTime(required=True)
    listing_id = fields.String(required=True, validate=validate.Length(1, 200))
    seller_id = fields.String(load_default="", validate=validate.Length(0, 200))
    unit_price = fields.Decimal(required=True, validate=PRICE)
    shipping = fields.Decimal(load_default=0, validate=validate.Range(0, 10_000))
    quantity = fields.Integer(load_default=1, validate=validate.Range(1, 10_000))


class SaleRow(_Row):
    sold_at = AwareDateTime(required=True)
    sale_key = fields.String(validate=validate.Length(1, 200))
    unit_price = fields.Decimal(required=True, validate=PRICE)
    shipping = fields.Decimal(load_default=0, validate=validate.Range(0, 10_000))
    quantity = fields.Integer(load_default=1, validate=validate.Range(1, 10_000))


class PriceRow(_Row):
    observed_at = AwareDateTime(required=True)
    market_price = fields.Decimal(validate=PRICE, allow_none=True)
    low_price = fields.Decimal(validate=PRICE, allow_none=True)
    mid_price = fields.Decimal(validate=PRICE, allow_none=True)
    high_price = fields.Decimal(validate=PRICE, allow_none=True)
    direct_low_price = fields.Decimal(validate=PRICE, allow_none=True)

    @validates_schema
    def some_price(self, data: dict[str, Any], **_: object) -> None:
        if all(data.get(name) is None for name in writer.PRICE_FIELDS):
            raise ValidationError(f"at least one of {', '.join(writer.PRICE_FIELDS)} is needed")


ROW_SCHEMAS: dict[str, Schema] = {"listings": ListingRow(), "sales": SaleRow(), "prices": PriceRow()}


class InvalidImport(ValueError):
    """The file is not valid; `errors` maps row numbers to field messages."""

    def __init__(self, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


@dataclass
class ImportReport:
    run_id: int
    rows: int
    result: writer.WriteResult
    products: list[int] = field(default_factory=list)


def read_csv(text: str) -> tuple[list[dict[str, Any]], int]:
    """CSV rows as dicts (empty cells dropped, so defaults apply) and the line number of the first row."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise InvalidImport("The CSV file has no header line.")
    rows = []
    for row in reader:
        if None in row:
            raise InvalidImport(f"Line {reader.line_num} has more cells than the header.")
        rows.append({k: v for k, v in row.items() if v not in ("", None)})
    return rows, 2


def _resolve_products(conn: psycopg.Connection[Any], refs: Iterable[str]) -> dict[str, int]:
    refs = sorted(set(refs))
    ids = [int(r) for r in refs if r.isdigit() and len(r) < 10]
    cur = conn.cursor(row_factory=psycopg.rows.tuple_row)
    rows = cur.execute(query("ingest/resolve_products"), {"ids": ids, "slugs": refs}).fetchall()
    by_ref: dict[str, int] = {}
    for product_id, slug in rows:
        by_ref[str(product_id)] = product_id
        by_ref[slug] = product_id
    return by_ref


def validate_rows(
    conn: psycopg.Connection[Any], kind: str, rows: list[Any], first_line: int = 1
) -> list[dict[str, Any]]:
    """Every row checked; raises InvalidImport listing every bad row (numbered from `first_line`)."""
    if kind not in ROW_SCHEMAS:
        raise InvalidImport(f"Unknown import kind {kind!r}; one of {', '.join(KINDS)}.")
    if not rows:
        raise InvalidImport("The file has no rows.")
    if len(rows) > MAX_ROWS:
        raise InvalidImport(f"At most {MAX_ROWS} rows per file; this one has {len(rows)}.")
    schema = ROW_SCHEMAS[kind]
    loaded: list[dict[str, Any]] = []
    errors: dict[str, Any] = {}
    for number, row in enumerate(rows, start=first_line):
        if not isinstance(row, dict):
            errors[str(number)] = {"_schema": ["each row is an object"]}
            continue
        try:
            loaded.append(schema.load(row))
        except ValidationError as exc:
            errors[str(number)] = exc.messages
            loaded.append({})
    products = _resolve_products(conn, (r["product"] for r in loaded if r))
    seen: dict[tuple[Any, ...], int] = {}
    for number, row in enumerate(loaded, start=first_line):
        if not row:
            continue
        if row["product"] not in products:
            errors.setdefault(str(number), {})["product"] = [f"no product {row['product']!r}"]
            continue
        row["product_id"] = products[row["product"]]
        key = _identity(kind, row)
        if key in seen:
            errors.setdefault(str(number), {})["_schema"] = [f"repeats row {seen[key]}"]
        seen.setdefault(key, number)
    if errors:
        raise InvalidImport(f"{len(errors)} of {len(rows)} rows are not valid; nothing was imported.", errors)
    return loaded


def _sale_key(row: dict[str, Any]) -> str:
    """A deterministic key for a sale given without one, so importing it twice stores it once."""
    basis = f"{row['product_id']}|{row['sold_at'].isoformat()}|{row['unit_price']}|{row['shipping']}|{row['quantity']}"
    return "manual:" + hashlib.sha256(basis.encode()).hexdigest()[:32]


def _identity(kind: str, row: dict[str, Any]) -> tuple[Any, ...]:
    if kind == "listings":
        return (row["product_id"], row["observed_at"], row["listing_id"])
    if kind == "sales":
        return (row.get("sale_key") or _sale_key(row),)
    return (row["product_id"], row["observed_at"])


def write(
    conn: psycopg.Connection[Any],
    kind: str,
    marketplace: str,
    rows: list[dict[str, Any]],
    *,
    raw: Any,
    job_id: str | None = None,
) -> ImportReport:
    """Write validated rows (validate_rows) in one transaction, with an ingest run and the raw file."""
    products = sorted({r["product_id"] for r in rows})
    with conn.transaction():
        run_id = writer.start_run(conn, f"import-{kind}", marketplace=marketplace, product_ids=products, job_id=job_id)
        writer.store_raw_payload(
            conn, marketplace=marketplace, request=f"import {kind}", status=None, body=raw, run_id=run_id
        )
        if kind == "listings":
            result = _write_listings(conn, marketplace, rows, run_id)
        elif kind == "sales":
            sales = [
                Sale(
                    product_id=r["product_id"],
                    sold_at=r["sold_at"],
                    sale_key=r.get("sale_key") or _sale_key(r),
                    unit_price=r["unit_price"],
                    shipping=r["shipping"],
                    quantity=r["quantity"],
                )
                for r in rows
            ]
            result = writer.write_sales(conn, marketplace, sales, run_id=run_id)
        else:
            points = [
                PricePoint(
                    product_id=r["product_id"],
                    observed_at=r["observed_at"],
                    market_price=r.get("market_price"),
                    low_price=r.get("low_price"),
                    mid_price=r.get("mid_price"),
                    high_price=r.get("high_price"),
                    direct_low_price=r.get("direct_low_price"),
                )
                for r in rows
            ]
            result = writer.write_price_points(conn, marketplace, points, run_id=run_id)
        if result.rejected:  # validation above should make this impossible; never write half a file
            raise InvalidImport(f"the writer rejected rows: {dict(result.rejected)}")
        writer.finish_run(conn, run_id, result)
    return ImportReport(run_id, len(rows), result, products)  # the writer asked for the days to recompute


def _write_listings(
    conn: psycopg.Connection[Any], marketplace: str, rows: list[dict[str, Any]], run_id: int
) -> writer.WriteResult:
    """Rows grouped into snapshots (one per product and time), written with what follows from them."""
    grouped: dict[tuple[int, datetime], list[Listing]] = defaultdict(list)
    for r in rows:
        grouped[(r["product_id"], r["observed_at"])].append(
            Listing(r["listing_id"], r["seller_id"], r["unit_price"], r["quantity"], r["shipping"])
        )
    snapshots = [Snapshot(pid, at, listings) for (pid, at), listings in sorted(grouped.items())]
    result, _ = write_listings(conn, ListingBatch.from_snapshots(marketplace, snapshots), run_id=run_id)
    return result
