from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import numpy as np
import pytest

from jobs.sim import driver
from jobs.sim.market import MARKETPLACES, MarketState, capture, snapshot_batch, step_times
from jobs.sim.pricing import starting_price

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def new_market(seed: int = 7, products: int = 20) -> MarketState:
    state = MarketState.new(seed, T0)
    state.add_products(np.arange(1, products + 1, dtype=np.int64), np.linspace(60, 400, products), T0)
    return state


def run(state: MarketState, times: list[datetime]) -> list[tuple[np.ndarray, ...]]:
    out = []
    for t in times:
        step = state.step(t)
        out.append(capture(state, "sim-tcgplayer"))
        out.append((step.trades["sim-ebay"].listing_id, step.trades["sim-ebay"].units))
    return out


def test_the_same_seed_gives_the_same_market_however_time_is_split():
    times = step_times(T0, T0 + timedelta(days=5), timedelta(hours=6))
    whole = run(new_market(), times)
    split_state = new_market()
    first = run(split_state, times[:7])
    resumed = MarketState.from_bytes(split_state.to_bytes())  # as a tick in another process would
    second = run(resumed, times[7:])
    assert len(whole) == len(first) + len(second)
    for a, b in zip(whole, first + second, strict=True):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)
    different = run(new_market(seed=8), times)
    assert any(not np.array_equal(a[0], b[0]) or len(a[0]) != len(b[0]) for a, b in zip(whole, different, strict=True))


def test_the_market_trades_and_keeps_books_stocked():
    state = new_market(products=50)
    times = step_times(T0, T0 + timedelta(days=30), timedelta(hours=6))
    units = {m.code: 0 for m in MARKETPLACES}
    for t in times:
        step = state.step(t)
        for code, trades in step.trades.items():
            units[code] += int(trades.units.sum())
            assert (trades.units > 0).all()
    for model in MARKETPLACES:
        book = state.books[model.code]
        assert 5 < book.active.sum(axis=1).mean() < 60
        assert (book.quantity[book.active] > 0).all()
        assert (book.price[book.active] >= 100).all()
        assert units[model.code] > 50 * 30  # more than a unit a day per product
    value = np.exp(state.log_value)
    floor = np.where(state.books["sim-tcgplayer"].active, state.books["sim-tcgplayer"].price, np.inf).min(axis=1) / 100
    assert 0.8 < np.median(floor / value) < 1.2


def test_snapshot_batches_cover_every_product_even_with_an_empty_book():
    state = new_market(products=3)
    state.books["sim-tcgplayer"].active[1] = False
    batch = snapshot_batch(state, "sim-tcgplayer", [T0], [capture(state, "sim-tcgplayer")])
    assert batch.snapshot_count == 3
    assert 1 not in set(batch.snapshot.tolist())
    assert all(lid.startswith("T") for lid in batch.listing_id)


def test_starting_prices_are_deterministic_and_plausible():
    args = ("op-01", "one-piece", "booster_box", 24, T0.date() - timedelta(days=800), T0.date())
    assert starting_price(*args) == starting_price(*args)
    assert 20 <= starting_price(*args) < 2000
    collector = starting_price("x", "mtg", "collector_booster_box", 12, None, T0.date())
    assert collector > starting_price("x", "mtg", "play_booster_box", 12, None, T0.date())


def test_steps_move_forward():
    state = new_market(products=2)
    with pytest.raises(ValueError, match="forward"):
        state.step(T0)


@pytest.mark.clock
def test_backfill_loads_both_marketplaces_through_the_ingest_path_and_ticks_continue(db, products, settings):
    now = datetime.now(UTC).replace(microsecond=0)
    report = driver.advance(settings.database_url, days=3, now=now - timedelta(hours=2), kind="sim-backfill")
    assert report.steps >= 12
    per_market = {
        r["marketplace"]: r
        for r in db.execute(
            "SELECT marketplace, count(*) AS snaps, count(DISTINCT product_id) AS products, sum(listing_count) AS rows"
            " FROM snapshots GROUP BY marketplace"
        )
    }
    assert set(per_market) == {"sim-tcgplayer", "sim-ebay"}
    assert all(m["products"] == 3 and m["rows"] > 0 for m in per_market.values())
    assert db.execute("SELECT count(*) AS n FROM listing_snapshots").fetchone()["n"] == sum(
        m["rows"] for m in per_market.values()
    )
    sales = {
        (r["marketplace"], r["basis"]): r["n"]
        for r in db.execute("SELECT marketplace, basis, count(*) AS n FROM sales GROUP BY 1, 2")
    }
    assert set(sales) == {("sim-ebay", "reported"), ("sim-tcgplayer", "inferred")}
    assert db.execute("SELECT count(DISTINCT marketplace) AS n FROM price_points").fetchone()["n"] == 1
    assert db.execute("SELECT count(*) AS n FROM snapshots WHERE NOT diffed").fetchone()["n"] == 0
    run = db.execute("SELECT kind, status, rows_written FROM ingest_runs").fetchone()
    assert (run["kind"], run["status"]) == ("sim-backfill", "succeeded")
    assert run["rows_written"]["listing_snapshots"] > 0

    before = db.execute("SELECT count(*) AS n, max(observed_at) AS t FROM snapshots").fetchone()
    tick = driver.advance(settings.database_url, now=now)
    after = db.execute("SELECT count(*) AS n, max(observed_at) AS t FROM snapshots").fetchone()
    assert tick.steps == 8  # two hours of 15-minute steps
    assert after["n"] == before["n"] + 8 * 2 * 3
    assert after["t"] > before["t"]
    assert driver.advance(settings.database_url, now=now).steps == 0  # nothing new to simulate


def test_a_backfill_needs_a_catalog(db, settings):
    with pytest.raises(ValueError, match="load the catalog first"):
        driver.advance(settings.database_url, days=1)
    assert db.execute("SELECT status FROM ingest_runs").fetchone()["status"] == "failed"


def test_the_cli_checks_its_arguments(runner, db, products):
    result = runner.invoke(args=["sim", "backfill", "--days", "0"])
    assert result.exit_code == 2
    assert "--days" in result.output
    result = runner.invoke(args=["sim", "backfill", "--products", "op-01-box,no-such-box"])
    assert result.exit_code == 2
    assert "unknown product slug(s): no-such-box" in result.output
    assert db.execute("SELECT count(*) AS n FROM snapshots").fetchone()["n"] == 0


@pytest.mark.parametrize("minutes_past_midnight", [0, 5, 125, 359, 360, 361, 725])
def test_a_live_tick_is_all_fine_steps_at_any_time_of_day(minutes_past_midnight):
    end = datetime(2026, 5, 1, tzinfo=UTC) + timedelta(minutes=minutes_past_midnight)
    steps = driver.plan_steps(end - timedelta(hours=2), end)
    assert len(steps) == 8
    assert all(b - a == driver.FINE_STEP for a, b in pairwise(steps))


def test_a_backfill_is_coarse_then_fine():
    end = datetime(2026, 5, 10, 13, 7, tzinfo=UTC)
    steps = driver.plan_steps(end - timedelta(days=3), end)
    gaps = [b - a for a, b in pairwise(steps)]
    assert gaps[0] == driver.COARSE_STEP
    assert gaps[-1] == driver.FINE_STEP
    assert steps[-1] == datetime(2026, 5, 10, 13, 0, tzinfo=UTC)
