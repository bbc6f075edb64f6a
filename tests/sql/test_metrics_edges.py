"""Hand-computed cases for the edges of SPEC §4's formulas: first days, nulls, zeros, caps and clamps."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from jobs import pipeline
from service.core.ingest import writer
from service.core.ingest.records import Listing, ListingBatch, Sale, Snapshot

DAY0 = date(2026, 2, 1)
NOW = datetime(2026, 4, 1, tzinfo=UTC)
BOOK = [Listing("A", "s1", "100", 1), Listing("B", "s2", "110", 1), Listing("C", "s3", "150", 2)]


def at(day: int, hour: int = 12) -> datetime:
    return datetime(DAY0.year, DAY0.month, DAY0.day, hour, tzinfo=UTC) + timedelta(days=day)


def observe(db, product: int, days: range, listings=BOOK, marketplace: str = "sim-tcgplayer") -> None:
    snapshots = [Snapshot(product, at(d), listings) for d in days]
    writer.write_listing_batch(db, ListingBatch.from_snapshots(marketplace, snapshots), now=NOW)
    db.execute("SELECT * FROM infer_listing_changes(%s)", [marketplace])


def metrics(db, product: int, day: int) -> dict:
    row = db.execute(
        "SELECT * FROM product_metrics_daily WHERE product_id = %s AND day = %s", [product, DAY0 + timedelta(days=day)]
    ).fetchone()
    assert row is not None
    return row


def run(settings, last_day: int) -> None:
    pipeline.run(settings.database_url, DAY0, DAY0 + timedelta(days=last_day))


def test_a_products_first_day(db, products, settings):
    observe(db, products[0], range(1))
    run(settings, 0)
    m = metrics(db, products[0], 0)
    assert (m["history_days"], m["floor_price"], m["active_listings"], m["units_listed"]) == (1, 100, 3, 4)
    assert (m["units_near_floor"], m["visible_market_cap"]) == (2, 510)  # 100 and 110 are within 120
    assert (m["units_sold"], m["volume_usd"], m["volume_ema_7d"], m["units_added"]) == (0, 0, 0, 0)
    assert m["insufficient_history"] is True
    assert m["low_liquidity"] is False
    for column in (
        "volume_sma_7d",
        "floor_sma_7d",
        "sold_avg_30d",
        "liquidity_score",
        "days_to_plus_20pct",
        "expected_days_to_sell",
        "momentum",
        "floor_change_pct_1d",
        "market_price",
        "avg_sale_price",
    ):
        assert m[column] is None, column


def test_burn_rates_caps_and_clamps(db, products, settings):
    p = products[0]
    observe(db, p, range(10))
    writer.write_sales(db, "sim-ebay", [Sale(p, at(9), "big-day", "10", 20)], now=NOW)
    run(settings, 9)
    m = metrics(db, p, 9)
    assert m["sold_avg_30d"] == pytest.approx(2.0)  # 20 units over 10 days of history
    assert m["added_avg_30d"] == pytest.approx(0.0)  # the book never changed
    assert m["days_to_plus_20pct"] == pytest.approx(1.0)  # 2 units near the floor / 2 a day
    assert m["expected_days_to_sell"] == pytest.approx(1.0)  # 2 / 2 = 1, the lower clamp
    assert m["liquidity_score"] == pytest.approx(100.0)  # 7 * 2 / 4 > 1, capped
    assert m["units_sold_sma_7d"] == pytest.approx(20 / 7)
    assert m["momentum"] == pytest.approx((20 / 7 - 2) / 2)
    assert m["absorption_ratio"] is None  # nothing added: no denominator
    assert m["volume_ema_7d"] == pytest.approx(200 * 0.25)  # alpha = 2 / 8, the earlier days were 0
    assert m["market_price"] == 10  # no TCGplayer market price: the 7-day median sale price
    assert m["volume_change_pct_7d"] is None  # fewer than 14 days of history
    assert m["insufficient_history"] is False

    quiet = metrics(db, p, 8)
    assert quiet["sold_avg_30d"] == pytest.approx(0.0)
    assert quiet["days_to_plus_20pct"] is None  # no squeeze
    assert quiet["expected_days_to_sell"] is None  # sold_avg_30d <= 0.05
    assert quiet["liquidity_score"] == pytest.approx(0.0)
    assert quiet["momentum"] is None  # sold_avg_30d is 0


def test_a_tiny_net_burn_is_the_cap(db, products, settings):
    p = products[1]
    observe(db, p, range(30))
    writer.write_sales(db, "sim-ebay", [Sale(p, at(0), "one", "100", 1)], now=NOW)
    run(settings, 29)
    m = metrics(db, p, 29)
    assert m["sold_avg_30d"] == pytest.approx(1 / 30)
    assert m["days_to_plus_20pct"] == 180
    assert m["expected_days_to_sell"] is None
    assert m["momentum"] == pytest.approx(-1.0)  # clamped: (0 - 1/30) / (1/30)


def test_levels_carry_forward_three_days_then_go_null_and_stale(db, products, settings):
    p = products[2]
    observe(db, p, range(1))
    run(settings, 5)
    assert metrics(db, p, 1)["stale"] is False  # the 12:00 snapshot of day 0 is within 48 h of day 1's end
    for day in (1, 2, 3):
        assert metrics(db, p, day)["floor_price"] == 100
        assert metrics(db, p, day)["floor_low"] is None  # the day's own low: no snapshot that day
    assert metrics(db, p, 2)["stale"] is True
    for day in (4, 5):
        m = metrics(db, p, day)
        assert (m["floor_price"], m["active_listings"], m["units_near_floor"]) == (None, None, None)
        assert m["units_sold"] == 0
        assert m["low_liquidity"] is True
    assert metrics(db, p, 4)["floor_change_pct_1d"] is None


def test_the_unified_floor_counts_near_floor_units_across_marketplaces(db, products, settings):
    p = products[0]
    observe(db, p, range(1), [Listing("t1", "s", "100", 2), Listing("t2", "s", "130", 1)], "sim-tcgplayer")
    observe(db, p, range(1), [Listing("e1", "x", "105", 3, "10"), Listing("e2", "x", "118", 1, "2")], "sim-ebay")
    run(settings, 0)
    m = metrics(db, p, 0)
    # Unified floor 100, so the band reaches 120 landed: t1 (100, 2 units), e1 (105 + 10 = 115, 3 units) and
    # e2 (118 + 2 = 120, 1 unit) are in it; t2 (130) is not.
    assert m["floor_price"] == 100
    assert m["units_near_floor"] == 2 + 3 + 1
    assert (m["active_listings"], m["units_listed"]) == (4, 7)


def test_the_cli_catches_up_and_checks_its_window(runner, db, products):
    assert runner.invoke(args=["pipeline", "run"]).exit_code == 1  # nothing observed yet
    observe(db, products[0], range(3))
    result = runner.invoke(args=["pipeline", "run", "--to", "2026-02-03"])
    assert result.exit_code == 0, result.output
    assert "metrics" in result.output
    assert db.execute("SELECT count(*) AS n FROM product_metrics_daily").fetchone()["n"] == 3
    bad = runner.invoke(args=["pipeline", "run", "--from", "2026-02-05", "--to", "2026-02-01"])
    assert bad.exit_code == 2
    assert "is after" in bad.output
    assert runner.invoke(args=["pipeline", "run", "--from", "someday"]).exit_code == 2
    again = runner.invoke(args=["pipeline", "recompute", "--to", "2026-02-03"])
    assert again.exit_code == 0, again.output
    assert "summaries" in again.output


def served_24h(db, product: int, day: int):
    """volume_24h as the API serves it (the view metric_rows)."""
    return db.execute(
        "SELECT volume_24h FROM metric_rows WHERE product_id = %s AND day = %s", [product, DAY0 + timedelta(days=day)]
    ).fetchone()["volume_24h"]


def test_volume_24h_is_the_last_24_hours_on_the_latest_day_and_the_utc_day_before(db, products, settings):
    """The data's clock is the end of the hour of the latest observation; a day that ends after it
    looks back 24 hours from it (it was the UTC day, so at 13:00 a day's volume held only 13 hours,
    and just after midnight none)."""
    product = products[0]
    observe(db, product, range(3))  # snapshots at 12:00 on days 0, 1, 2: the clock is day 2, 13:00
    sales = [Sale(product, at(1, 20), "d1-20h", "100", 1), Sale(product, at(2, 3), "d2-03h", "50", 1)]
    writer.write_sales(db, "sim-ebay", [*sales, Sale(product, at(2, 9), "d2-09h", "30", 1)], now=NOW)
    run(settings, 2)
    assert (metrics(db, product, 1)["volume_usd"], served_24h(db, product, 1)) == (100, 100)
    assert (metrics(db, product, 2)["volume_usd"], served_24h(db, product, 2)) == (80, 180)

    # Day 3's first data, and day 4 computed before any of its own: an incremental run of days 3-4.
    batch = ListingBatch.from_snapshots("sim-tcgplayer", [Snapshot(product, at(3, 6), BOOK)])
    writer.write_listing_batch(db, batch, now=NOW)
    writer.write_sales(db, "sim-ebay", [Sale(product, at(3, 1), "d3-01h", "10", 1)], now=NOW)
    pipeline.run(settings.database_url, DAY0 + timedelta(days=3), DAY0 + timedelta(days=4))
    assert served_24h(db, product, 2) == 80  # whole now: its UTC day
    # The clock is day 3, 07:00: [day 2 07:00, day 3 07:00) holds the sales of 09:00 and 01:00.
    assert (metrics(db, product, 3)["volume_usd"], served_24h(db, product, 3)) == (10, 40)
    assert (metrics(db, product, 4)["volume_usd"], served_24h(db, product, 4)) == (0, 40)

    # Day 5's data makes days 3 and 4 whole, though the run computes day 5 only.
    batch = ListingBatch.from_snapshots("sim-tcgplayer", [Snapshot(product, at(5, 12), BOOK)])
    writer.write_listing_batch(db, batch, now=NOW)
    writer.write_sales(db, "sim-ebay", [Sale(product, at(5, 2), "d5-02h", "5", 1)], now=NOW)
    pipeline.run(settings.database_url, DAY0 + timedelta(days=5), DAY0 + timedelta(days=5))
    assert [served_24h(db, product, day) for day in (3, 4, 5)] == [10, 0, 5]
