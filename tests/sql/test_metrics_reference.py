"""The database's metrics, ranks and market index against the independent reference (tests/reference.py),
on a simulated market with gaps, shocks, an incomplete snapshot, late rows and exact ties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobs import pipeline
from jobs.sim import driver
from service.core import cache, metrics
from service.core.ingest import writer
from service.core.ingest.records import Listing, ListingBatch, Sale, Snapshot
from tests import reference

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
START = NOW - timedelta(days=45)
LAST_DAY = NOW.date()
# Every stored metric the API serves (the catalogue's), and those it keeps without serving them.
METRIC_COLUMNS = ["history_days", "avg_sale_price", "median_sale_price", *metrics.STORED]
INDEX_COLUMNS = [
    "products_priced", "basket_value_usd", "index_value", "index_change_pct_1d", "index_change_pct_7d",
    "index_change_pct_30d", "advancers", "decliners", "unchanged", "volume_usd", "units_sold", "units_added",
    "volume_ema_7d", "volume_change_pct_7d", "sentiment",
]  # fmt: skip


def clone_product(db, source: int, target: int) -> None:
    """Give `target` exactly `source`'s observations: its metrics tie with the source's on every key."""
    db.execute(
        """INSERT INTO snapshots SELECT observed_at, %(t)s, marketplace, complete, listing_count, units,
                  ingest_run_id, prev_observed_at, diffed, units_added, units_inferred_sold, floor_landed,
                  units_near_floor, market_cap FROM snapshots WHERE product_id = %(s)s""",
        {"s": source, "t": target},
    )
    db.execute(
        """INSERT INTO listing_snapshots SELECT observed_at, %(t)s, marketplace, listing_id, seller_id,
                  unit_price, shipping, quantity FROM listing_snapshots WHERE product_id = %(s)s""",
        {"s": source, "t": target},
    )
    db.execute(
        """INSERT INTO sales SELECT sold_at, %(t)s, marketplace, 'clone:' || sale_key, unit_price, shipping,
                  quantity, basis, listing_id, ingest_run_id FROM sales WHERE product_id = %(s)s""",
        {"s": source, "t": target},
    )
    db.execute(
        """INSERT INTO price_points SELECT observed_at, %(t)s, marketplace, market_price, low_price, mid_price,
                  high_price, direct_low_price, ingest_run_id FROM price_points WHERE product_id = %(s)s""",
        {"s": source, "t": target},
    )
    db.execute(
        """INSERT INTO listing_events SELECT observed_at, %(t)s, marketplace, listing_id, seller_id, event,
                  prev_unit_price, unit_price, prev_quantity, quantity FROM listing_events WHERE product_id = %(s)s""",
        {"s": source, "t": target},
    )


@pytest.fixture
def market(db, products, settings):
    """Four products (a clone among them) over 45 days, with a gap, an incomplete snapshot and a late sale."""
    db.execute(
        "INSERT INTO products (slug, game, name, product_type) VALUES ('clone-box', 'pokemon', 'Clone', 'booster_box')"
    )
    db.execute("UPDATE products SET reprint_risk = 'LOW' WHERE slug IN ('op-02-box', 'clone-box')")
    clone = db.execute("SELECT id FROM products WHERE slug = 'clone-box'").fetchone()["id"]
    db.execute("UPDATE products SET active = false WHERE id = %s", [clone])
    driver.advance(settings.database_url, days=45, now=NOW, kind="sim-backfill")
    gapped = products[0]
    # Six days without any snapshot: more than max_carry_days, so levels go null, then come back.
    gap = (START + timedelta(days=20), START + timedelta(days=26))
    for table in ("snapshots", "listing_snapshots", "listing_events"):
        db.execute(
            f"DELETE FROM {table} WHERE product_id = %s AND observed_at >= %s AND observed_at < %s", [gapped, *gap]
        )
    db.execute(
        "DELETE FROM price_points WHERE product_id = %s AND observed_at >= %s AND observed_at < %s", [gapped, *gap]
    )
    # An incomplete snapshot with an absurd floor: only complete snapshots may feed metrics.
    bait = Snapshot(gapped, START + timedelta(days=30, hours=3), [Listing("bait", "s", "1.00", 5)], complete=False)
    writer.write_listing_batch(db, ListingBatch.from_snapshots("sim-tcgplayer", [bait]), now=NOW)
    clone_product(db, products[1], clone)
    # Inactive, the simulator left it alone; active again, it is ranked (only active products are) beside its twin.
    db.execute("UPDATE products SET active = true WHERE id = %s", [clone])
    return {"gapped": gapped, "clone": clone, "twin": products[1], "late": products[2]}


def compare_all(db) -> None:
    raw = reference.load_raw(db)
    expected = reference.daily_metrics(raw, LAST_DAY)
    rows = {(r["product_id"], r["day"]): r for r in db.execute("SELECT * FROM product_metrics_daily")}
    assert set(rows) == set(expected)
    mismatches = [
        (key, column, rows[key][column], expected[key][column])
        for key in sorted(expected)
        for column in METRIC_COLUMNS
        if not reference.close(rows[key][column], expected[key][column])
    ]
    assert mismatches[:10] == []

    expected_ranks = reference.ranks(raw, expected)
    stored = {(r["scope"], r["product_id"], r["day"]): r for r in db.execute("SELECT * FROM product_ranks_daily")}
    assert {k: r["rank"] for k, r in stored.items()} == expected_ranks
    for (scope, product, day), r in stored.items():
        assert r["rank_1d_ago"] == expected_ranks.get((scope, product, day - timedelta(days=1)))
        assert r["rank_7d_ago"] == expected_ranks.get((scope, product, day - timedelta(days=7)))

    expected_index = reference.market_index(raw, expected)
    index_rows = {(r["scope"], r["day"]): r for r in db.execute("SELECT * FROM market_index_daily")}
    assert set(index_rows) == set(expected_index)
    index_mismatches = [
        (key, column, index_rows[key][column], expected_index[key][column])
        for key in sorted(expected_index)
        for column in INDEX_COLUMNS
        if not (
            index_rows[key][column] == expected_index[key][column]
            if column == "sentiment"
            else reference.close(index_rows[key][column], expected_index[key][column])
        )
    ]
    assert index_mismatches[:10] == []


def test_database_and_reference_agree_before_and_after_late_rows(db, market, settings, redis_db):
    first_day = db.execute("SELECT min(observed_at)::date AS d FROM snapshots").fetchone()["d"]
    pipeline.run(settings.database_url, first_day, LAST_DAY, redis_client=redis_db)
    compare_all(db)

    # The situations the test exists for really occur in this dataset.
    gapped = db.execute(
        "SELECT count(*) FILTER (WHERE floor_price IS NULL) AS unpriced, count(*) FILTER (WHERE stale) AS stale"
        " FROM product_metrics_daily WHERE product_id = %s",
        [market["gapped"]],
    ).fetchone()
    assert gapped["unpriced"] >= 2
    assert gapped["stale"] >= 2
    ties = db.execute(
        "SELECT count(*) AS n FROM product_ranks_daily a JOIN product_ranks_daily b"
        " ON a.scope = b.scope AND a.day = b.day AND a.rank = b.rank AND a.product_id < b.product_id"
    ).fetchone()["n"]
    assert ties >= 45  # the clone ties with its twin every day ('all' scope)
    assert db.execute("SELECT count(*) AS n FROM product_metrics_daily WHERE floor_price < 2").fetchone()["n"] == 0

    # Late rows: a sale reported 10 days after the fact, then an incremental run from that day.
    late_day = LAST_DAY - timedelta(days=10)
    late_at = datetime(late_day.year, late_day.month, late_day.day, 15, tzinfo=UTC)
    writer.write_sales(db, "sim-ebay", [Sale(market["late"], late_at, "late-1", "999.99", 3)], now=NOW)
    before = db.execute(
        "SELECT volume_ema_7d FROM product_metrics_daily WHERE product_id = %s AND day = %s", [market["late"], LAST_DAY]
    ).fetchone()["volume_ema_7d"]
    # A window in the past is extended to the last computed day, so later days stay consistent.
    report = pipeline.run(settings.database_url, late_day, late_day + timedelta(days=2), redis_client=redis_db)
    assert report.last_day == LAST_DAY
    compare_all(db)
    after = db.execute(
        "SELECT volume_ema_7d FROM product_metrics_daily WHERE product_id = %s AND day = %s", [market["late"], LAST_DAY]
    ).fetchone()["volume_ema_7d"]
    assert after > before


def test_an_incremental_day_equals_a_full_recompute(db, market, settings):
    first_day = db.execute("SELECT min(observed_at)::date AS d FROM snapshots").fetchone()["d"]
    pipeline.run(settings.database_url, first_day, LAST_DAY - timedelta(days=1))
    pipeline.run(settings.database_url, LAST_DAY, LAST_DAY)
    incremental = db.execute("SELECT * FROM product_metrics_daily ORDER BY product_id, day").fetchall()
    index_incremental = db.execute("SELECT * FROM market_index_daily ORDER BY scope, day").fetchall()
    pipeline.run(settings.database_url, first_day, LAST_DAY)
    full = db.execute("SELECT * FROM product_metrics_daily ORDER BY product_id, day").fetchall()
    index_full = db.execute("SELECT * FROM market_index_daily ORDER BY scope, day").fetchall()
    strip = lambda rows: [{k: v for k, v in r.items() if k != "computed_at"} for r in rows]  # noqa: E731
    assert len(full) == len(incremental)
    for a, b in zip(strip(incremental), strip(full), strict=True):
        assert all(reference.close(a[k], b[k], rel=1e-9) for k in a), (a["product_id"], a["day"])
    for a, b in zip(index_incremental, index_full, strict=True):
        assert all(reference.close(a[k], b[k], rel=1e-9) for k in a)


def test_the_pipeline_bumps_the_data_version(db, market, settings, redis_db):
    report = pipeline.run(settings.database_url, LAST_DAY, LAST_DAY, redis_client=redis_db)
    assert report.data_version == 1
    assert pipeline.run(settings.database_url, LAST_DAY, LAST_DAY, redis_client=redis_db).data_version == 2
    assert redis_db.get(cache.DATA_UPDATED_KEY)
    with pytest.raises(ValueError, match="empty window"):
        pipeline.run(settings.database_url, LAST_DAY, LAST_DAY - timedelta(days=1))


def test_a_redis_outage_does_not_fail_the_pipeline(db, market, settings):
    import redis

    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    report = pipeline.run(settings.database_url, LAST_DAY, LAST_DAY, redis_client=down)
    assert report.data_version is None
    assert db.execute("SELECT count(*) AS n FROM product_metrics_daily WHERE day = %s", [LAST_DAY]).fetchone()["n"] == 4
