"""The adapter contract and registry: the listed adapters agree with each other and with the database,
the schedule is the core's entries plus theirs, and a new adapter reaches the database, the schedule
and replay through the registry alone (no migration, no switch naming marketplaces)."""

from __future__ import annotations

import dataclasses
import importlib
from datetime import UTC, datetime

import pytest

from jobs import schedule
from jobs.marketplaces import registry, replay
from jobs.marketplaces.base import Adapter, ReplayReport
from jobs.marketplaces.sources import ProductSource
from jobs.periodic import Entry
from service.core.ingest import writer
from service.core.marketplaces import Marketplace, declare
from service.core.settings import Env

# The entries of today's schedule: their names are the scheduled jobs' ids (schedule-<name>), which
# must stay stable. (A new adapter adds entries; it need not list them here.)
ENTRY_NAMES = {
    "sim-tick",
    "webhook-sweep",
    "images",
    "raw-payload-retention",
    "record-retention",
    "ebay-listings",
    "ebay-sales",
    "tcgplayer-prices",
    "tcgcsv-prices",
    "tcgplayer-map",
}


def test_the_listed_adapters_do_not_overlap():
    adapters = registry.adapters()
    codes = [a.code for a in adapters]
    assert codes[:2] == ["tcgplayer", "ebay"] and len(codes) == len(set(codes))
    kinds = [f.kind for a in adapters for f in a.fan_outs]
    assert len(kinds) == len(set(kinds))
    replayed = [kind for a in adapters for kind in a.replays]
    assert len(replayed) == len(set(replayed))
    source_fields = {f.name for f in dataclasses.fields(ProductSource)}
    assert all(f.needs in source_fields for a in adapters for f in a.fan_outs)


def test_the_schedule_is_the_core_entries_and_every_adapters():
    names = [entry.name for entry in schedule.SCHEDULE]
    assert len(names) == len(set(names)) and set(names) >= ENTRY_NAMES
    assert (*schedule.CORE, *registry.schedule()) == schedule.SCHEDULE
    for entry in schedule.SCHEDULE:  # what rq-scheduler will import, by its dotted path
        module, _, name = entry.func.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name)), entry.func


def test_the_declared_marketplaces_are_the_rows_in_the_database(db):
    rows = {
        r["code"]: Marketplace(r["code"], r["name"], r["has_sold_feed"], r["market_price_source"])
        for r in db.execute("SELECT code, name, has_sold_feed, market_price_source FROM marketplaces")
    }
    for declared in registry.marketplaces():
        assert rows[declared.code] == declared


def fetch_testmarket() -> dict:
    return {}


def _echo_replay(conn, config, payloads, report):
    report.result.written["echoed"] += len(payloads)
    report.result.rejected.update(f"{config}:{p['context']['kind']}" for p in payloads)


NEW = Adapter(
    Marketplace("testmarket", "Test market", has_sold_feed=True, market_price_source=False),
    read_config=lambda env: env.text("TESTMARKET_KEY", "", "a new marketplace's key"),
    missing=lambda key: [] if key else ["TESTMARKET_KEY"],
    fan_outs=(),
    schedule=(Entry("testmarket-listings", f"{__name__}.fetch_testmarket", "0 * * * *"),),
    replays=frozenset({"testmarket.listings"}),
    replay=_echo_replay,
)


@pytest.fixture
def new_adapter(monkeypatch, db):
    """A marketplace adapter added the documented way: its module registers it, one line lists it."""
    monkeypatch.setitem(registry._registered, __name__, NEW)
    monkeypatch.setattr(registry, "ADAPTERS", (*registry.ADAPTERS, __name__))
    try:
        yield NEW
    finally:
        db.execute("DELETE FROM ingest_runs WHERE marketplace = 'testmarket'")
        db.execute("DELETE FROM marketplaces WHERE code = 'testmarket'")


def test_a_new_adapter_needs_no_migration(db, runner, new_adapter):
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "declared marketplace testmarket" in result.output
    row = db.execute(
        "SELECT name, has_sold_feed, market_price_source, simulated FROM marketplaces WHERE code = %s", ["testmarket"]
    ).fetchone()
    assert row == {"name": "Test market", "has_sold_feed": True, "market_price_source": False, "simulated": False}
    assert "database is up to date" in runner.invoke(args=["db", "upgrade"]).output  # declared once

    assert new_adapter.schedule[0] in registry.schedule()
    env = Env({})
    assert registry.read_configs(env)["testmarket"] == "" and "TESTMARKET_KEY" in env.declared  # in .env.example


@pytest.mark.clock
def test_replay_hands_each_adapter_its_own_payloads(db, settings, new_adapter, monkeypatch):
    declare(db, [new_adapter.marketplace])  # what `db upgrade` does
    run_id = writer.start_run(db, "fetch-testmarket-listings", marketplace="testmarket")
    now = datetime.now(UTC)
    for kind, status, body in [
        ("testmarket.listings", 200, {"items": [1]}),
        ("testmarket.token", 200, {"access_token": "<redacted>"}),  # a kind no adapter replays
        ("testmarket.listings", 500, {"errors": ["down"]}),  # not answered
        ("tcgplayer.pricing", 200, {"results": []}),  # another adapter's kind: its replay, not this one's
    ]:
        writer.store_raw_payload(
            db,
            marketplace="testmarket",
            request="GET /x",
            status=status,
            body=body,
            run_id=run_id,
            context={"kind": kind, "products": {}, "observed_at": now.isoformat()},
        )
    writer.finish_run(db, run_id, writer.WriteResult())
    monkeypatch.setenv("TESTMARKET_KEY", "k")

    report = replay.replay_run(settings.database_url, run_id)
    assert isinstance(report, ReplayReport) and report.replay_of == run_id and report.payloads == 4
    # Only its own answered kind reached the new adapter, with its settings; the rest went elsewhere or nowhere.
    assert report.result.written["echoed"] == 1 and dict(report.result.rejected) == {"k:testmarket.listings": 1}


def test_two_adapters_of_one_marketplace_are_refused(monkeypatch):
    monkeypatch.setattr(registry, "_registered", dict(registry._registered))
    ebay = registry.adapters()[1]
    with pytest.raises(registry.RegistryError, match="both declare marketplace 'ebay'"):
        registry.register("somewhere.else", ebay)


def test_a_listed_module_that_registers_nothing_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(registry, "ADAPTERS", (*registry.ADAPTERS, "jobs.marketplaces.filters"))
    with pytest.raises(registry.RegistryError, match=r"jobs\.marketplaces\.filters registered no adapter"):
        registry.adapters()
