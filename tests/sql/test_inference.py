"""Listing-change inference (SPEC §3), rule by rule on hand-built snapshot sequences, plus properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.core.ingest import writer
from service.core.ingest.records import Listing, ListingBatch, Snapshot

T0 = datetime(2026, 5, 1, tzinfo=UTC)
NOW = datetime(2026, 6, 1, tzinfo=UTC)
TCG = "sim-tcgplayer"


def observe(db, product: int, hours: float, listings: list[tuple], *, marketplace: str = TCG, complete: bool = True):
    """listings: (listing_id, seller, unit_price, quantity[, shipping])."""
    snapshot = Snapshot(product, T0 + timedelta(hours=hours), [Listing(*row) for row in listings], complete)
    writer.write_listing_batch(db, ListingBatch.from_snapshots(marketplace, [snapshot]), now=NOW)


def infer(db, marketplace: str = TCG) -> dict:
    return db.execute("SELECT * FROM infer_listing_changes(%s)", [marketplace]).fetchone()


def events(db) -> set[tuple[str, str]]:
    return {(r["listing_id"], r["event"]) for r in db.execute("SELECT listing_id, event FROM listing_events")}


def sales(db) -> list[tuple[str, int, str]]:
    rows = db.execute('SELECT listing_id, quantity, unit_price, basis FROM sales ORDER BY listing_id COLLATE "C"')
    result = []
    for row in rows:
        assert row["basis"] == "inferred"
        result.append((row["listing_id"], row["quantity"], str(row["unit_price"])))
    return result


def added(db, hours: float) -> int | None:
    return db.execute(
        "SELECT units_added FROM snapshots WHERE observed_at = %s", [T0 + timedelta(hours=hours)]
    ).fetchone()["units_added"]


def test_the_first_snapshot_is_a_baseline(db, products):
    observe(db, products[0], 0, [("a", "s1", "100", 1)])
    assert infer(db)["pairs"] == 0
    assert events(db) == set()
    assert added(db, 0) == 0


def test_listed_and_delisted_listings_are_events_and_a_delisting_is_a_sale(db, products):
    observe(db, products[0], 0, [("a", "s1", "100", 1), ("b", "s2", "110", 1)])
    observe(db, products[0], 6, [("a", "s1", "100", 1), ("c", "s3", "105", 2)])
    result = infer(db)
    assert (result["pairs"], result["inferred_sales"], result["units_inferred"]) == (1, 1, 1)
    assert events(db) == {("b", "DELISTED"), ("c", "LISTED")}
    assert sales(db) == [("b", 1, "110.00")]
    assert added(db, 6) == 2


def test_a_delisting_far_above_the_floor_is_a_withdrawal_not_a_sale(db, products):
    # Floor (landed) 100; premium 1.30: 125 + 10 shipping = 135 is withdrawn, 125 + 0 = 125 sold.
    observe(db, products[0], 0, [("a", "s1", "100", 1), ("w", "s2", "125", 1, "10"), ("d", "s3", "125", 1)])
    observe(db, products[0], 6, [("a", "s1", "100", 1)])
    infer(db)
    assert events(db) == {("w", "WITHDRAWN"), ("d", "DELISTED")}
    assert sales(db) == [("d", 1, "125.00")]


def test_quantity_changes(db, products):
    observe(db, products[0], 0, [("a", "s1", "100", 3), ("b", "s2", "101", 1)])
    observe(db, products[0], 6, [("a", "s1", "100", 1), ("b", "s2", "101", 4)])
    infer(db)
    assert events(db) == {("a", "QTY_DOWN"), ("b", "QTY_UP")}
    assert sales(db) == [("a", 2, "100.00")]
    assert added(db, 6) == 3


def test_a_price_change_is_an_event_and_nothing_else(db, products):
    observe(db, products[0], 0, [("a", "s1", "100", 1)])
    observe(db, products[0], 6, [("a", "s1", "95", 1)])
    infer(db)
    assert events(db) == {("a", "PRICE_CHANGED")}
    assert sales(db) == []
    assert added(db, 6) == 0


def test_a_relist_by_the_same_seller_is_neither_a_sale_nor_new_supply(db, products):
    observe(db, products[0], 0, [("a", "s1", "100", 1), ("x", "s9", "140", 1)])
    observe(db, products[0], 6, [("a2", "s1", "100", 1), ("x", "s9", "140", 1)])
    infer(db)
    assert events(db) == {("a", "DELISTED"), ("a2", "LISTED")}
    assert sales(db) == []
    assert added(db, 6) == 0


def test_units_beyond_the_relist_sell_cheapest_first_with_ties_in_byte_order(db, products):
    # Seller s1 drops 4 units and lists 1: relisted 1, so 3 sold: "B" and "b" (tie at 100, "B" < "b"
    # in byte order) and one of the two units of "c".
    observe(
        db, products[0], 0, [("b", "s1", "100", 1), ("B", "s1", "100", 1), ("c", "s1", "120", 2), ("z", "s2", "99", 1)]
    )
    observe(db, products[0], 6, [("new", "s1", "110", 1), ("z", "s2", "99", 1)])
    result = infer(db)
    assert sales(db) == [("B", 1, "100.00"), ("b", 1, "100.00"), ("c", 1, "120.00")]
    assert result["units_inferred"] == 3
    assert added(db, 6) == 0

    # The same with one more unit relisted: the most expensive unit is the one left unsold.
    observe(db, products[1], 0, [("b", "s1", "100", 1), ("B", "s1", "100", 1), ("c", "s1", "120", 2)])
    observe(db, products[1], 6, [("n1", "s1", "110", 2)])
    infer(db)
    rows = db.execute(
        "SELECT listing_id, quantity FROM sales WHERE product_id = %s ORDER BY 1", [products[1]]
    ).fetchall()
    assert sorted((r["listing_id"], r["quantity"]) for r in rows) == [("B", 1), ("b", 1)]


def test_pairs_further_apart_than_the_gap_guard_start_a_new_baseline(db, products):
    observe(db, products[0], 0, [("a", "s1", "100", 1)])
    observe(db, products[0], 49, [("b", "s1", "100", 1)])
    observe(db, products[0], 55, [("c", "s2", "100", 1)])
    result = infer(db)
    assert result["pairs"] == 1
    assert events(db) == {("b", "DELISTED"), ("c", "LISTED")}
    assert added(db, 49) == 0
    assert (
        db.execute(
            "SELECT prev_observed_at FROM snapshots WHERE observed_at = %s", [T0 + timedelta(hours=49)]
        ).fetchone()["prev_observed_at"]
        is None
    )


def test_incomplete_snapshots_are_skipped(db, products):
    observe(db, products[0], 0, [("a", "s1", "100", 1), ("b", "s2", "100", 1)])
    observe(db, products[0], 6, [("a", "s1", "100", 1)], complete=False)
    observe(db, products[0], 12, [("a", "s1", "100", 1), ("b", "s2", "100", 1)])
    infer(db)
    assert events(db) == set()
    assert sales(db) == []


def test_a_marketplace_with_a_sold_feed_gets_events_but_no_inferred_sales(db, products):
    observe(db, products[0], 0, [("a", "s1", "100", 1)], marketplace="sim-ebay")
    observe(db, products[0], 6, [], marketplace="sim-ebay")
    result = infer(db, "sim-ebay")
    assert (result["pairs"], result["events"], result["inferred_sales"]) == (1, 1, 0)
    assert db.execute("SELECT count(*) AS n FROM sales").fetchone()["n"] == 0


def test_marketplaces_are_never_mixed(db, products):
    observe(db, products[0], 0, [("a", "s1", "100", 1)], marketplace=TCG)
    observe(db, products[0], 6, [], marketplace="sim-ebay")
    observe(db, products[0], 12, [("a", "s1", "100", 1)], marketplace=TCG)
    assert infer(db)["events"] == 0
    assert infer(db, "sim-ebay")["pairs"] == 0


def test_running_inference_again_changes_nothing(db, products):
    observe(db, products[0], 0, [("a", "s1", "100", 2), ("b", "s2", "100", 1)])
    observe(db, products[0], 6, [("a", "s1", "100", 1)])
    first = infer(db)
    assert first["inferred_sales"] == 2
    second = infer(db)
    assert (second["pairs"], second["events"], second["inferred_sales"]) == (0, 0, 0)
    assert len(sales(db)) == 2
    # Even with the diffed flags reset, deterministic keys keep the sales from doubling.
    db.execute("DELETE FROM listing_events")
    db.execute("UPDATE snapshots SET diffed = false")
    assert infer(db)["inferred_sales"] == 0
    assert len(sales(db)) == 2


def test_an_unknown_marketplace_is_an_error(db):
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="unknown marketplace"):
        infer(db, "nope")


listing_strategy = st.tuples(
    st.sampled_from(["a", "b", "c", "d", "e", "f"]),  # listing id
    st.sampled_from(["s1", "s2", "s3"]),  # seller
    st.integers(90, 140),  # dollars
    st.integers(1, 4),  # quantity
)
book_strategy = st.lists(listing_strategy, max_size=6, unique_by=lambda row: row[0])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(books=st.lists(book_strategy, min_size=2, max_size=4))
def test_inferred_units_never_exceed_what_left_the_book_and_inference_is_idempotent(db, products, books):
    product = products[2]
    for table in ("listing_snapshots", "snapshots", "listing_events", "sales"):
        db.execute(f"DELETE FROM {table} WHERE product_id = %s", [product])
    for i, listings in enumerate(books):
        observe(db, product, 6 * i, [(lid, s, str(p), q) for lid, s, p, q in listings])
    infer(db)
    state = db.execute(
        "SELECT (SELECT count(*) FROM listing_events WHERE product_id = %(p)s) AS events,"
        " (SELECT coalesce(sum(quantity), 0) FROM sales WHERE product_id = %(p)s) AS units",
        {"p": product},
    ).fetchone()
    for i in range(1, len(books)):
        prev = {lid: q for lid, _, _, q in books[i - 1]}
        cur = {lid: q for lid, _, _, q in books[i]}
        left = sum(q for lid, q in prev.items() if lid not in cur) + sum(
            max(0, q - cur[lid]) for lid, q in prev.items() if lid in cur
        )
        inferred = db.execute(
            "SELECT coalesce(sum(quantity), 0) AS n FROM sales WHERE product_id = %s AND sold_at = %s",
            [product, T0 + timedelta(hours=6 * i)],
        ).fetchone()["n"]
        assert inferred <= left
        assert all(
            Decimal(90) <= r["unit_price"] <= Decimal(140)
            for r in db.execute("SELECT unit_price FROM sales WHERE product_id = %s", [product])
        )
    again = infer(db)
    assert (again["pairs"], again["events"], again["inferred_sales"]) == (0, 0, 0)
    after = db.execute(
        "SELECT (SELECT count(*) FROM listing_events WHERE product_id = %(p)s) AS events,"
        " (SELECT coalesce(sum(quantity), 0) FROM sales WHERE product_id = %(p)s) AS units",
        {"p": product},
    ).fetchone()
    assert after == state
