"""`flask ingest replay RUN_ID`: a run's raw payloads re-parsed through the adapters and the writer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jobs.marketplaces import ebay, fetch, tcgplayer
from jobs.sim import driver
from tests.fakes import fixtures
from tests.fakes.marketplaces import Fault

fake_market = fixtures.fake_market
marketplace_env = fixtures.marketplace_env
TABLES = ("snapshots", "listing_snapshots", "sales", "price_points", "listing_events")


def _counts(db):
    return {t: db.execute(f"SELECT count(*) AS n FROM {t}").fetchone()["n"] for t in TABLES}


def _wipe_observations(db):
    db.execute("TRUNCATE " + ", ".join(TABLES))


def test_replay_rebuilds_a_runs_observations_and_is_idempotent(db, products, fake_market, marketplace_env, runner):
    fake_market.advance(hours=12)
    runs = [
        ebay.fetch_listings()["run_id"],
        ebay.fetch_sales()["run_id"],
        tcgplayer.fetch_prices()["run_id"],
        tcgplayer.fetch_mirror_prices()["run_id"],
    ]
    fetched = _counts(db)
    assert fetched["listing_snapshots"] > 0 and fetched["sales"] > 0 and fetched["price_points"] == 6
    _wipe_observations(db)

    for run_id in runs:
        result = runner.invoke(args=["ingest", "replay", str(run_id)])
        assert result.exit_code == 0, result.output
        assert f"replayed run {run_id} as run" in result.output
    assert _counts(db) == fetched

    again = runner.invoke(args=["ingest", "replay", str(runs[0])])
    assert "written nothing new" in again.output and f"{len(products)} snapshots; rejected none" in again.output
    assert _counts(db) == fetched
    replays = db.execute("SELECT kind, replay_of, status FROM ingest_runs WHERE kind = 'replay' ORDER BY id").fetchall()
    assert [r["replay_of"] for r in replays] == [*runs, runs[0]] and {r["status"] for r in replays} == {"succeeded"}


def test_replay_leaves_out_a_snapshot_whose_page_failed(db, products, fake_market, marketplace_env, runner):
    query = fake_market.products[0].query
    fake_market.faults.append(Fault("/item_summary/search", status=500, query={"q": query, "offset": "10"}, times=9))
    with pytest.raises(fetch.FetchFailed):
        ebay.fetch_listings()
    run_id = db.execute("SELECT id FROM ingest_runs").fetchone()["id"]
    fetched = _counts(db)
    _wipe_observations(db)

    result = runner.invoke(args=["ingest", "replay", str(run_id)])
    assert result.exit_code == 0, result.output
    assert "1 incomplete_snapshot" in result.output
    assert _counts(db)["listing_snapshots"] == fetched["listing_snapshots"]
    assert _counts(db)["snapshots"] == fetched["snapshots"] - 1  # the live run registered it as incomplete
    assert not db.execute("SELECT 1 FROM snapshots WHERE product_id = %s", [products[0]]).fetchall()


def test_replaying_an_unknown_run_is_a_clear_error(db, runner):
    result = runner.invoke(args=["ingest", "replay", "424242"])
    assert result.exit_code != 0 and "no ingest run 424242" in result.output
    malformed = runner.invoke(args=["ingest", "replay", "latest"])
    assert malformed.exit_code == 2 and "'latest' is not a valid integer" in malformed.output
    assert db.execute("SELECT count(*) AS n FROM ingest_runs").fetchone()["n"] == 0


def test_ingest_status_shows_circuits_and_counters(db, products, fake_market, marketplace_env, runner, app):
    from service.core.circuits import QuotaCircuit
    from service.extensions import redis_client

    with app.app_context():
        client = redis_client()
        client.flushdb()
        assert "no marketplace calls recorded yet" in runner.invoke(args=["ingest", "status"]).output
        tcgplayer.fetch_prices()
        QuotaCircuit(client, "ebay-browse").open(datetime(2099, 1, 1, tzinfo=UTC), "test")
    output = runner.invoke(args=["ingest", "status"]).output
    assert "ebay-browse      circuit open until 2099-01-01T00:00:00+00:00; quota_refusals 1" in output
    assert "tcgplayer        circuit closed; " in output and "calls 2" in output and "token_mints 1" in output


def test_a_run_without_stored_payloads_is_refused_and_nothing_is_recorded(db, products, runner, settings):
    """A simulated run (or an import) writes observations directly and stores no payloads: replaying it
    made an empty `replay` run and said "replayed" (issue 19). It is refused, saying why."""
    driver.advance(settings.database_url, days=1, kind="sim-backfill")
    (run_id,) = [r["id"] for r in db.execute("SELECT id FROM ingest_runs WHERE kind = 'sim-backfill'")]
    runs_before = db.execute("SELECT count(*) AS n FROM ingest_runs").fetchone()["n"]
    result = runner.invoke(args=["ingest", "replay", str(run_id)])
    assert result.exit_code == 1, result.output
    assert f"run {run_id} (sim-backfill) stored no marketplace payloads" in result.output
    assert db.execute("SELECT count(*) AS n FROM ingest_runs").fetchone()["n"] == runs_before
