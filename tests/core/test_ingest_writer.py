from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from service.core.ingest import writer
from service.core.ingest.records import Listing, ListingBatch, PricePoint, Sale, Snapshot

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
T0 = NOW - timedelta(days=1)


def batch(*snapshots: Snapshot, marketplace: str = "sim-tcgplayer") -> ListingBatch:
    return ListingBatch.from_snapshots(marketplace, snapshots)


def book(product: int, t: datetime = T0, **listings: tuple) -> Snapshot:
    return Snapshot(product, t, [Listing(lid, *values) for lid, values in listings.items()])


def count(db, table: str) -> int:
    return db.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]


def test_snapshots_are_written_once_whatever_the_number_of_runs(db, products):
    p = products[0]
    snaps = batch(book(p, a=("s1", "100.00", 1), b=("s2", "105.50", 2, "4.99")), book(p, T0 + timedelta(hours=6)))
    first = writer.write_listing_batch(db, snaps, now=NOW)
    assert first.written == {"snapshots": 2, "listing_snapshots": 2}
    again = writer.write_listing_batch(db, snaps, now=NOW)
    assert again.written == {"snapshots": 0, "listing_snapshots": 0}
    assert again.skipped == {"snapshots": 2, "listing_snapshots": 2}
    assert (count(db, "snapshots"), count(db, "listing_snapshots")) == (2, 2)
    registry = db.execute("SELECT listing_count, units, complete FROM snapshots ORDER BY observed_at").fetchall()
    assert registry == [
        {"listing_count": 2, "units": 3, "complete": True},
        {"listing_count": 0, "units": 0, "complete": True},
    ]
    row = db.execute("SELECT unit_price, shipping, seller_id FROM listing_snapshots WHERE listing_id = 'b'").fetchone()
    assert (str(row["unit_price"]), str(row["shipping"]), row["seller_id"]) == ("105.50", "4.99", "s2")


@pytest.mark.parametrize(
    ("listing", "reason"),
    [
        (Listing("x", "s", "0", 1), "invalid_price"),
        (Listing("x", "s", "-3.00", 1), "invalid_price"),
        (Listing("x", "s", float("nan"), 1), "invalid_price"),
        (Listing("x", "s", "abc", 1), "invalid_price"),
        (Listing("x", "s", "10", 0), "invalid_quantity"),
        (Listing("x", "s", "10", 1, "-1"), "invalid_shipping"),
        (Listing("x", "s", "10", 1, currency="EUR"), "wrong_currency"),
        (Listing("", "s", "10", 1), "missing_listing_id"),
    ],
)
def test_bad_listings_are_rejected_and_counted_by_reason(db, products, listing, reason):
    good = Listing("ok", "s", "50", 1)
    result = writer.write_listing_batch(db, batch(Snapshot(products[0], T0, [good, listing])), now=NOW)
    assert result.rejected == {reason: 1}
    assert result.written["listing_snapshots"] == 1
    assert [r["listing_id"] for r in db.execute("SELECT listing_id FROM listing_snapshots")] == ["ok"]


def test_bad_snapshots_are_rejected_whole(db, products):
    p = products[0]
    rows = {"a": ("s", "10", 1), "b": ("s", "11", 1)}
    result = writer.write_listing_batch(
        db,
        batch(
            book(999_999, **rows),  # unknown product
            book(p, NOW + timedelta(hours=1), **rows),  # in the future
            Snapshot(p, datetime(2026, 5, 1), [Listing("a", "s", "10", 1)]),  # no time zone
            book(p, T0, **rows),
            book(p, T0, **rows),  # the same snapshot twice in one batch
            Snapshot(p, T0 + timedelta(hours=1), [Listing("a", "s", "10", 1), Listing("a", "s", "12", 1)]),
        ),
        now=NOW,
    )
    assert result.rejected == {
        "unknown_product": 2,
        "timestamp_in_future": 2,
        "timestamp_without_timezone": 1,
        "duplicate_in_batch": 3,
    }
    assert result.written == {"snapshots": 2, "listing_snapshots": 3}


def test_a_snapshot_is_written_whole_or_not_at_all(db, products):
    # The second snapshot passes validation but overflows numeric(12,2) inside COPY: the
    # transaction rolls back, registry rows included, so a retry can write everything.
    p = products[0]
    bad = batch(
        book(p, a=("s", "10", 1)), book(p, T0 + timedelta(hours=6), a=("s", "10", 1), b=("s", "99999999999", 1))
    )
    with pytest.raises(psycopg.errors.NumericValueOutOfRange):
        writer.write_listing_batch(db, bad, now=NOW)
    assert (count(db, "snapshots"), count(db, "listing_snapshots")) == (0, 0)


def test_identifiers_with_copy_special_characters_round_trip(db, products):
    odd = "v1|12\t3\\4\n5"
    writer.write_listing_batch(db, batch(Snapshot(products[0], T0, [Listing(odd, "sel\\ler", "10", 1)])), now=NOW)
    row = db.execute("SELECT listing_id, seller_id FROM listing_snapshots").fetchone()
    assert (row["listing_id"], row["seller_id"]) == (odd, "sel\\ler")


def test_sales_are_idempotent_and_validated(db, products):
    p = products[0]
    sales = [
        Sale(p, T0, "k1", "120.00", 1, "5.00", listing_id="L1"),
        Sale(p, T0, "k2", "118.00", 2),
        Sale(p, T0, "k2", "118.00", 2),  # duplicate key in the batch
        Sale(p, T0, "k3", "0", 1),
        Sale(p, T0, "k4", "10", 0),
        Sale(p, T0, "k5", "10", 1, currency="GBP"),
        Sale(999_999, T0, "k6", "10", 1),
        Sale(p, NOW + timedelta(days=1), "k7", "10", 1),
        Sale(p, T0, "", "10", 1),
    ]
    first = writer.write_sales(db, "sim-ebay", sales, now=NOW)
    assert first.written == {"sales": 2}
    assert first.rejected == {
        "duplicate_in_batch": 1,
        "invalid_price": 1,
        "invalid_quantity": 1,
        "wrong_currency": 1,
        "unknown_product": 1,
        "timestamp_in_future": 1,
        "missing_sale_key": 1,
    }
    again = writer.write_sales(db, "sim-ebay", sales[:2], now=NOW)
    assert (again.written["sales"], again.skipped["sales"]) == (0, 2)
    rows = db.execute(
        "SELECT sale_key, unit_price, quantity, basis, listing_id FROM sales ORDER BY sale_key"
    ).fetchall()
    assert [(r["sale_key"], str(r["unit_price"]), r["quantity"], r["basis"], r["listing_id"]) for r in rows] == [
        ("k1", "120.00", 1, "reported", "L1"),
        ("k2", "118.00", 2, "reported", None),
    ]


def test_price_points_are_idempotent_and_validated(db, products):
    p = products[0]
    points = [
        PricePoint(p, T0, market_price="101.10", low_price="95", direct_low_price=None),
        PricePoint(p, T0, market_price="1"),  # duplicate instant
        PricePoint(p, T0 + timedelta(hours=1)),  # no prices at all
        PricePoint(p, T0 + timedelta(hours=2), market_price="-4"),
        PricePoint(p, T0 + timedelta(hours=3), market_price="9", currency="JPY"),
    ]
    result = writer.write_price_points(db, "sim-tcgplayer", points, now=NOW)
    assert result.written == {"price_points": 1}
    assert result.rejected == {"duplicate_in_batch": 1, "invalid_price": 2, "wrong_currency": 1}
    assert writer.write_price_points(db, "sim-tcgplayer", points[:1], now=NOW).written == {"price_points": 0}
    row = db.execute("SELECT market_price, low_price, mid_price FROM price_points").fetchone()
    assert (str(row["market_price"]), str(row["low_price"]), row["mid_price"]) == ("101.10", "95.00", None)


def test_runs_record_what_was_written_and_rejected(db, products):
    run = writer.start_run(db, "fetch", marketplace="ebay", product_ids=products[:2], job_id="job-1")
    writer.store_raw_payload(
        db, marketplace="ebay", request="GET /buy/browse", status=200, body={"total": 1}, run_id=run
    )
    writer.store_raw_payload(
        db, marketplace="ebay", request="GET /x", status=502, body=b"<html>bad gateway", run_id=run
    )
    result = writer.write_sales(db, "ebay", [Sale(products[0], T0, "e1", "10", 1), Sale(products[0], T0, "e2", "0", 1)])
    writer.finish_run(db, run, result, http_calls=2)
    row = db.execute("SELECT * FROM ingest_runs WHERE id = %s", [run]).fetchone()
    assert row["status"] == "succeeded"
    assert row["finished_at"] is not None
    assert (row["rows_written"], row["rows_rejected"], row["http_calls"]) == ({"sales": 1}, {"invalid_price": 1}, 2)
    bodies = [r["body"] for r in db.execute("SELECT body FROM raw_payloads ORDER BY status")]
    assert bodies == [{"total": 1}, {"raw": "<html>bad gateway"}]


@pytest.mark.clock
def test_raw_payloads_past_the_retention_are_dropped(db, monkeypatch, settings):
    from jobs import tasks

    old, recent = datetime.now(UTC) - timedelta(days=40), datetime.now(UTC) - timedelta(days=2)
    for fetched_at in (old, recent):
        writer.store_raw_payload(
            db, marketplace="ebay", request="GET /x", status=200, body={}, run_id=None, fetched_at=fetched_at
        )
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert tasks.raw_payload_retention()["chunks_dropped"] >= 1
    remaining = [r["fetched_at"] for r in db.execute("SELECT fetched_at FROM raw_payloads")]
    assert remaining == [recent]
