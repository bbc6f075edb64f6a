"""RQ job functions. Thin: resolve inputs from settings, call the real work, let RQ record the result."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import psycopg

from jobs import pipeline
from jobs.sim import driver
from service.core import alerts
from service.core.cache import connect_redis
from service.core.settings import Settings
from service.core.sql import query


def sim_tick() -> dict[str, Any]:
    """Advance the simulated market to now, then run the pipeline over the days it touched."""
    settings = Settings.from_env()
    report = driver.advance(settings.database_url)
    result: dict[str, Any] = {"steps": report.steps, "written": dict(report.result.written)}
    if report.first_step is not None:
        result["pipeline"] = run_pipeline(report.first_step.date().isoformat())
    return result


def run_pipeline(first_day: str, last_day: str | None = None) -> dict[str, Any]:
    """The metric pipeline for [first_day, last_day] (ISO dates; last_day defaults to today, UTC)."""
    settings = Settings.from_env()
    last = date.fromisoformat(last_day) if last_day else datetime.now(UTC).date()
    report = pipeline.run(
        settings.database_url, date.fromisoformat(first_day), last, redis_client=connect_redis(settings.redis_url)
    )
    return {"seconds": report.seconds, "rows": report.rows, "data_version": report.data_version}


def raw_payload_retention() -> dict[str, int]:
    """Drop raw payloads older than the `raw_payload_retention_days` setting (default 30)."""
    with psycopg.connect(Settings.from_env().database_url) as conn:
        row = conn.execute(query("maintenance/raw_payload_retention")).fetchone()
    return {"chunks_dropped": int(row[0]) if row else 0}


def dispatch_webhooks() -> dict[str, int]:
    """The sweep: enqueue webhook deliveries that are pending without a live job."""
    settings = Settings.from_env()
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        return {"enqueued": alerts.dispatch(conn, connect_redis(settings.redis_url))}
