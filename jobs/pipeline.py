"""The metric pipeline: rollups for the touched window -> daily metrics -> ranks -> market index ->
a new data version in Redis (the API's cache key) -> alerts on the newest day.

Every stage is SQL in the database; this module only orders the stages and times them. Re-running
a window recomputes it from the raw observations, so the pipeline is idempotent and safe to retry.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import redis

from service.core import alerts, recompute, rollups
from service.core.cache import bump_data_version
from service.core.settings import PROJECT_ROOT
from service.core.sql import query

log = logging.getLogger(__name__)


@dataclass
class PipelineReport:
    first_day: date
    last_day: date
    seconds: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    data_version: int | None = None


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def observed_span(conn: psycopg.Connection[Any]) -> tuple[date, date] | None:
    row = conn.cursor(row_factory=psycopg.rows.tuple_row).execute(query("pipeline/observed_days")).fetchone()
    if not row or row[0] is None:
        return None
    return row[0], row[1]


def run(
    conninfo: str,
    first_day: date,
    last_day: date,
    *,
    redis_client: redis.Redis | None = None,
    resummarise: bool = False,
    reinfer: bool = False,
    progress: Callable[[str], None] | None = None,
) -> PipelineReport:
    """Recompute every stage for the days [first_day, last_day].

    Later days derive from earlier ones (moving windows, EMAs, the chained index), so the window is
    extended to the last day already computed: what is stored never disagrees with what it derives from.
    With `reinfer`, listing changes and inferred sales are derived again first; with `resummarise`,
    snapshot summaries. A run serves the pipeline requests (service/core/recompute.py) it covers.
    """
    if first_day > last_day:
        raise ValueError(f"empty window: {first_day} is after {last_day}")

    with psycopg.connect(conninfo, autocommit=True) as conn:
        last_computed = (
            conn.cursor(row_factory=psycopg.rows.tuple_row).execute(query("pipeline/last_computed_day")).fetchone()
        )
        if last_computed and last_computed[0] and last_computed[0] > last_day:
            last_day = last_computed[0]
        report = PipelineReport(first_day, last_day)
        window = {"from": first_day, "to": last_day}
        requests = recompute.pending(conn)  # read first: requests made during the run stay for the next

        def stage(name: str, work: Callable[[], int | None]) -> None:
            if progress:
                progress(name)
            started = time.perf_counter()
            count = work()
            report.seconds[name] = round(time.perf_counter() - started, 3)
            if count is not None:
                report.rows[name] = count

        if reinfer:
            stage("inference", lambda: _scalar_sum(conn, "pipeline/reinfer", {"from": _day_start(first_day)}))
        if resummarise:
            stage(
                "summaries",
                lambda: _scalar_sum(
                    conn,
                    "pipeline/resummarise",
                    {"from": _day_start(first_day), "to": _day_start(last_day + timedelta(days=1))},
                ),
            )
        # Rollups first, each outside any transaction (continuous aggregates demand it).
        for rollup in rollups.declared(PROJECT_ROOT / "sql"):
            stage(
                f"rollup:{rollup.name}",
                lambda r=rollup: rollups.refresh(  # type: ignore[misc]
                    conn, r.name, _day_start(first_day), _day_start(last_day + timedelta(days=1))
                ),
            )
        # Metrics, ranks and the index land together or not at all.
        with conn.transaction():
            conn.execute(query("pipeline/take_turns"))
            stage("metrics", lambda: _scalar(conn, "pipeline/metrics", window))
            stage("ranks", lambda: _scalar(conn, "pipeline/ranks", window))
            stage("market_index", lambda: _scalar(conn, "pipeline/market_index", window))
        if redis_client is not None:
            report.data_version = bump_data_version(redis_client)
        # Alerts look at the newest day only: older days were evaluated when they were new.
        fired = alerts.evaluate_metrics(conn, last_day)
        report.rows["alerts_fired"] = fired.notifications
        if redis_client is not None:  # this run's deliveries, and listing alerts fired at ingest
            alerts.dispatch(conn, redis_client)
        if requests is not None and _covers(requests, first_day, resummarise, reinfer):
            recompute.served(conn, requests)
    log.info(
        "pipeline ran",
        extra={"first_day": str(first_day), "last_day": str(last_day), "seconds": report.seconds, "rows": report.rows},
    )
    return report


def stages(*, resummarise: bool = False, reinfer: bool = False) -> list[str]:
    """The stages a run goes through, in order (what `progress` is called with)."""
    first = ["inference"] * reinfer + ["summaries"] * resummarise
    return [*first, *(f"rollup:{r.name}" for r in rollups.declared(PROJECT_ROOT / "sql")), *FINAL_STAGES]


FINAL_STAGES = ("metrics", "ranks", "market_index")


def _covers(requests: recompute.Requests, first_day: date, resummarise: bool, reinfer: bool) -> bool:
    return (
        first_day <= requests.from_day
        and (resummarise or not requests.resummarise)
        and (reinfer or not requests.reinfer)
    )


def _scalar(conn: psycopg.Connection[Any], name: str, params: dict[str, Any]) -> int:
    row = conn.cursor(row_factory=psycopg.rows.tuple_row).execute(query(name), params).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _scalar_sum(conn: psycopg.Connection[Any], name: str, params: dict[str, Any]) -> int:
    rows = conn.cursor(row_factory=psycopg.rows.tuple_row).execute(query(name), params).fetchall()
    return sum(int(r[1]) for r in rows)
