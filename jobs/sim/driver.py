"""Runs the simulated market forward and loads what it emits through the real ingest path.

Work is done in chunks of simulated time; each chunk commits its observations, the listing-change
inference over them, and the simulation state together, so a crash loses at most the chunk in
flight and a restart resumes exactly where the last commit left off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import psycopg

from jobs.sim.market import MARKETPLACES, MarketState, capture, snapshot_batch, step_times
from jobs.sim.pricing import starting_price
from service.core import data_mode
from service.core.ingest import writer
from service.core.ingest.after import write_listings
from service.core.ingest.records import PricePoint, Sale
from service.core.sql import query

log = logging.getLogger(__name__)

SIM_NAME = "default"
DEFAULT_SEED = 20261122
COARSE_STEP = timedelta(hours=6)  # history: four snapshots a day, like the reference dataset
FINE_STEP = timedelta(minutes=15)  # live ticks: a market that visibly moves
STEPS_PER_CHUNK = 16


@dataclass
class SimReport:
    steps: int = 0
    first_step: datetime | None = None
    simulated_through: datetime | None = None
    result: writer.WriteResult = field(default_factory=writer.WriteResult)
    inferred_sales: int = 0


def plan_steps(start: datetime, end: datetime) -> list[datetime]:
    """Coarse steps through history, fine steps for the last hours before `end`: a live tick (which
    starts less than a coarse step before `end`) is all fine steps, whatever the time of day."""
    coarse = step_times(start, end - COARSE_STEP, COARSE_STEP)
    return coarse + step_times(coarse[-1] if coarse else start, end, FINE_STEP)


def _products(conn: psycopg.Connection[Any], ids: Sequence[int] | None) -> list[dict[str, Any]]:
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute(query("sim/products"), {"ids": list(ids) if ids else None}).fetchall()


def _admit_new_products(state: MarketState, products: list[dict[str, Any]], today: date) -> None:
    known = set(state.product_ids.tolist())
    new = [p for p in products if p["id"] not in known]
    if new:
        values = np.array(
            [
                starting_price(p["slug"], p["game"], p["product_type"], p["packs_per_box"], p["release_date"], today)
                for p in new
            ]
        )
        state.add_products(np.array([p["id"] for p in new], dtype=np.int64), values, state.time)


def _write_chunk(
    conn: psycopg.Connection[Any], state: MarketState, times: list[datetime], run_id: int, report: SimReport
) -> None:
    captures: dict[str, list[tuple[Any, ...]]] = {m.code: [] for m in MARKETPLACES}
    sales: dict[str, list[Sale]] = {m.code: [] for m in MARKETPLACES if m.reports_sales}
    points: list[PricePoint] = []
    for t in times:
        step = state.step(t)
        for model in MARKETPLACES:
            captures[model.code].append(capture(state, model.code))
            if model.reports_sales:
                trades = step.trades[model.code]
                ids = state.product_ids[trades.product].tolist()
                sales[model.code].extend(
                    Sale(
                        product_id=pid,
                        sold_at=t,
                        sale_key=f"{model.id_prefix}{lid}-{int(t.timestamp())}",
                        unit_price=f"{price // 100}.{price % 100:02d}",
                        shipping=f"{ship // 100}.{ship % 100:02d}",
                        quantity=units,
                        listing_id=f"{model.id_prefix}{lid}",
                    )
                    for pid, lid, price, ship, units in zip(
                        ids,
                        trades.listing_id.tolist(),
                        trades.price.tolist(),
                        trades.shipping.tolist(),
                        trades.units.tolist(),
                        strict=True,
                    )
                )
        if step.price_points is not None:
            pp = step.price_points
            day = t.replace(hour=0, minute=0, second=0, microsecond=0)
            points.extend(
                PricePoint(
                    product_id=int(state.product_ids[i]),
                    observed_at=day,
                    market_price=round(float(pp.market[i]), 2),
                    low_price=None if np.isnan(pp.low[i]) else round(float(pp.low[i]), 2),
                    mid_price=None if np.isnan(pp.mid[i]) else round(float(pp.mid[i]), 2),
                    high_price=None if np.isnan(pp.high[i]) else round(float(pp.high[i]), 2),
                    direct_low_price=None if np.isnan(pp.direct_low[i]) else round(float(pp.direct_low[i]), 2),
                )
                for i in range(state.products)
            )
    with conn.transaction():
        for model in MARKETPLACES:
            batch = snapshot_batch(state, model.code, times, captures[model.code])
            written, inferred = write_listings(conn, batch, run_id=run_id)
            report.result.add(written)
            report.inferred_sales += inferred
            if model.reports_sales:
                report.result.add(writer.write_sales(conn, model.code, sales[model.code], run_id=run_id))
            if model.reports_prices:
                report.result.add(writer.write_price_points(conn, model.code, points, run_id=run_id))
        conn.execute(
            query("sim/save_state"),
            {"name": SIM_NAME, "seed": state.seed, "through": state.time, "state": state.to_bytes()},
        )
    report.steps += len(times)
    report.first_step = report.first_step or times[0]
    report.simulated_through = state.time


def advance(
    conninfo: str,
    *,
    days: float | None = None,
    product_ids: Sequence[int] | None = None,
    seed: int = DEFAULT_SEED,
    now: datetime | None = None,
    kind: str = "sim-tick",
    progress: Callable[[int, int], None] | None = None,
) -> SimReport:
    """Bring the simulation up to `now`.

    The first call starts the market `days` ago (default: one day) for the given products (default:
    every active product). Later calls continue from where the last one stopped and admit products
    added to the catalog since.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
    report = SimReport()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        data_mode.require_demo(conn, "the simulated market")
        run_id = writer.start_run(conn, kind, marketplace=None, product_ids=product_ids)
        # One simulation run at a time (a tick and a backfill, two workers): the second waits, then
        # finds the state already advanced. A session lock, since each chunk commits on its own.
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", [f"sim:{SIM_NAME}"])
        try:
            row = conn.execute(query("sim/load_state"), {"name": SIM_NAME}).fetchone()
            if row is None:
                state = MarketState.new(seed, now - timedelta(days=days if days is not None else 1))
            else:
                state = MarketState.from_bytes(row[2])
            _admit_new_products(state, _products(conn, product_ids if row is None else None), now.date())
            if not state.products:
                raise ValueError("no active products to simulate: load the catalog first (flask catalog load)")
            times = plan_steps(state.time, now)
            chunks = [times[i : i + STEPS_PER_CHUNK] for i in range(0, len(times), STEPS_PER_CHUNK)]
            for done, chunk in enumerate(chunks, start=1):
                _write_chunk(conn, state, chunk, run_id, report)
                if progress:
                    progress(done, len(chunks))
            if not times:  # nothing to simulate yet; still keep any newly admitted products
                conn.execute(
                    query("sim/save_state"),
                    {"name": SIM_NAME, "seed": state.seed, "through": state.time, "state": state.to_bytes()},
                )
        except Exception as exc:
            writer.finish_run(conn, run_id, report.result, status="failed", error=f"{type(exc).__name__}: {exc}")
            raise
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", [f"sim:{SIM_NAME}"])
        writer.finish_run(conn, run_id, report.result)
    report.simulated_through = report.simulated_through or now
    log.info(
        "simulated market advanced",
        extra={"steps": report.steps, "written": dict(report.result.written), "inferred_sales": report.inferred_sales},
    )
    return report
