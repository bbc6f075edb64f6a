"""Demo and live never mix: a database's mode, the guard at the writer, going live, and what shows it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from jobs import pipeline, schedule
from jobs.sim import driver
from service.app import create_app
from service.core import catalog, data_mode
from service.core.ingest import writer
from service.core.ingest.after import write_listings
from service.core.ingest.records import Listing, ListingBatch, PricePoint, Sale, Snapshot
from service.core.settings import PROJECT_ROOT

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
SIMULATED = ("sim-tcgplayer", "sim-ebay")


def simulated_rows_anywhere(db) -> int:
    """Rows of a simulated marketplace in any table with a marketplace column, rollups included."""
    tables = db.execute(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public'"
        " AND column_name = 'marketplace' AND table_name <> 'marketplaces'"
    ).fetchall()
    return sum(
        db.execute(
            f"SELECT count(*) AS n FROM {t['table_name']} WHERE marketplace = ANY(%s)", [list(SIMULATED)]
        ).fetchone()["n"]
        for t in tables
    )


def real_observations(db, product: int) -> None:
    """eBay listings and a sale, and a TCGplayer price, two days running."""
    for day in (2, 1):
        at = NOW - timedelta(days=day)
        snap = Snapshot(product, at, [Listing(f"l{day}", "s1", 120 + day, 2), Listing("l0", "s2", 150, 1)])
        write_listings(db, ListingBatch.from_snapshots("ebay", [snap]), now=NOW)
        writer.write_price_points(db, "tcgplayer", [PricePoint(product, at, market_price=130)], now=NOW)
    writer.write_sales(db, "ebay", [Sale(product, NOW - timedelta(days=1), "e-1", 125, 1)], now=NOW)


def test_a_database_without_simulated_data_takes_live_at_once(db, products):
    assert data_mode.current(db) == "demo"
    assert data_mode.reconcile(db, "demo") == "demo"
    assert data_mode.reconcile(db, "live") == "live"
    assert data_mode.current(db) == "live"


def test_a_demo_database_with_simulated_data_is_not_switched_silently(db, products, settings):
    driver.advance(settings.database_url, days=1, now=NOW, kind="sim-backfill")
    with pytest.raises(data_mode.DataModeError, match="data go-live"):
        data_mode.reconcile(db, "live")
    assert data_mode.current(db) == "demo"


def test_a_live_database_never_returns_to_demo(db, products):
    data_mode.reconcile(db, "live")
    with pytest.raises(data_mode.DataModeError, match="never returns to demo"):
        data_mode.reconcile(db, "demo")


def test_a_live_database_refuses_simulated_observations_and_the_simulator(db, products, settings):
    data_mode.reconcile(db, "live")
    snap = Snapshot(products[0], NOW, [Listing("x", "s", 100, 1)])
    with pytest.raises(data_mode.DataModeError, match="sim-tcgplayer is a simulated marketplace"):
        writer.write_listing_batch(db, ListingBatch.from_snapshots("sim-tcgplayer", [snap]), now=NOW)
    with pytest.raises(data_mode.DataModeError, match="simulated marketplace"):
        writer.write_sales(db, "sim-ebay", [Sale(products[0], NOW, "k", 10, 1)], now=NOW)
    with pytest.raises(data_mode.DataModeError, match="simulated marketplace"):
        writer.write_price_points(db, "sim-tcgplayer", [PricePoint(products[0], NOW, market_price=1)], now=NOW)
    with pytest.raises(data_mode.DataModeError, match="the simulated market: this database is live"):
        driver.advance(settings.database_url, days=1, now=NOW)
    assert (
        writer.write_listing_batch(db, ListingBatch.from_snapshots("ebay", [snap]), now=NOW).written["snapshots"] == 1
    )
    assert simulated_rows_anywhere(db) == 0


def test_the_simulator_commands_refuse_a_live_database_clearly(runner, db, products):
    data_mode.reconcile(db, "live")
    for args in (["sim", "backfill", "--days", "1"], ["sim", "tick"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1
        assert "this database is live" in result.output


def test_the_catalog_of_a_live_database_has_no_simulated_sources(db):
    data_mode.reconcile(db, "live")
    catalog.load(db, catalog.parse_csv(PROJECT_ROOT / "data" / "catalog.csv"))
    marketplaces = {r["marketplace"] for r in db.execute("SELECT DISTINCT marketplace FROM product_sources")}
    assert marketplaces and not marketplaces & set(SIMULATED)


def test_going_live_keeps_only_real_data_and_recomputes_from_it(runner, db, products, settings):
    driver.advance(settings.database_url, days=5, now=NOW, kind="sim-backfill")
    real_observations(db, products[0])
    pipeline.run(settings.database_url, (NOW - timedelta(days=5)).date(), NOW.date())
    before = db.execute("SELECT count(*) AS n FROM product_metrics_daily").fetchone()["n"]
    assert before > 0 and simulated_rows_anywhere(db) > 0

    result = runner.invoke(args=["data", "go-live", "--yes"])
    assert result.exit_code == 0, result.output
    assert "the database is live" in result.output
    assert data_mode.current(db) == "live"
    assert simulated_rows_anywhere(db) == 0
    assert db.execute("SELECT count(*) AS n FROM sim_state").fetchone()["n"] == 0
    # Metrics again, from the real observations only: one product, from its first real day.
    rows = db.execute(
        "SELECT product_id, day, floor_price, units_sold FROM product_metrics_daily ORDER BY day"
    ).fetchall()
    assert {r["product_id"] for r in rows} == {products[0]}
    assert rows[0]["day"] == (NOW - timedelta(days=2)).date()
    assert rows[1]["floor_price"] == 121  # the cheaper of eBay's two listings that day
    assert rows[1]["units_sold"] == 1
    again = runner.invoke(args=["data", "go-live", "--yes"])
    assert "live already" in again.output


def test_db_upgrade_names_the_way_forward_when_modes_disagree(runner, db, products, settings, app):
    driver.advance(settings.database_url, days=1, now=NOW, kind="sim-backfill")
    app.config["SETTINGS"] = replace(settings, data_mode="live")
    try:
        result = runner.invoke(args=["db", "upgrade"])
    finally:
        app.config["SETTINGS"] = settings
    assert result.exit_code == 1 and "flask --app service.app data go-live" in result.output


def test_a_live_schedule_has_no_simulator():
    live = {entry.name for entry in schedule.for_mode("live")}
    demo = {entry.name for entry in schedule.for_mode("demo")}
    assert "sim-tick" in demo and "sim-tick" not in live
    assert demo - live == {"sim-tick"} and "pipeline-catch-up" in live


def test_clients_see_the_mode_in_meta_headers_readiness_and_metrics(settings, migrated, db, redis_db, products):
    for mode in ("demo", "live"):  # two deployments, one after the other
        redis_db.flushdb()
        data_mode.reconcile(db, mode)
        app = create_app(replace(settings, data_mode=mode))
        client = app.test_client()
        games = client.get("/api/v1/games")
        assert games.headers["X-Data-Mode"] == mode
        assert games.get_json()["meta"]["data_mode"] == mode
        ready = client.get("/health/ready").get_json()
        assert (ready["status"], ready["data_mode"], ready["checks"]["database"]["data_mode"]) == ("ok", mode, mode)
        assert f'boxpro_data_mode{{mode="{mode}"}} 1.0' in client.get("/metrics").get_data(as_text=True)
        app.extensions["boxpro.db"].close()


def test_readiness_fails_when_the_database_and_data_mode_disagree(settings, migrated, db, redis_db):
    app = create_app(replace(settings, data_mode="live"))  # the database is still demo
    try:
        ready = app.test_client().get("/health/ready")
        assert ready.status_code == 503
        body = ready.get_json()
        assert body["failing"] == ["database"]
        assert "DATA_MODE=live, but this database is in demo mode" in body["checks"]["database"]["error"]
    finally:
        app.extensions["boxpro.db"].close()
