"""RQ job functions. Thin: resolve inputs from settings, call the real work, let RQ record the result."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from rq import get_current_job

from jobs import pipeline
from jobs.sim import driver
from service.core import alerts, recompute
from service.core.cache import connect_redis
from service.core.settings import Settings
from service.core.sql import query


def sim_tick() -> dict[str, Any]:
    """Advance the simulated market to now, then run the pipeline over the days it touched."""
    settings = Settings.from_env()
    report = driver.advance(settings.database_url)
    result: dict[str, Any] = {"steps": report.steps, "written": dict(report.result.written)}
    if report.first_step is not None:
        result["pipeline"] = run_requested_pipeline()
    return result


# One pipeline at a time, across every worker: a second one waits, then serves what is left.
PIPELINE_LOCK = "pipeline"


def run_requested_pipeline() -> dict[str, Any]:
    """The pipeline from the earliest day asked for since the last run (writes of observations,
    changed settings; service/core/recompute.py), through today. Queued after writes, debounced,
    and run by the `pipeline-catch-up` entry for whatever an outage left behind."""
    settings = Settings.from_env()
    client = connect_redis(settings.redis_url, timeout_s=5.0)
    recompute.started(client)
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", [PIPELINE_LOCK])
        try:
            requests = recompute.pending(conn)
            if requests is None:
                return {"requests": 0}
            today = datetime.now(UTC).date()
            report = pipeline.run(
                settings.database_url,
                requests.from_day,
                max(today, requests.from_day),
                redis_client=client,
                resummarise=requests.resummarise,
                reinfer=requests.reinfer,
            )
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", [PIPELINE_LOCK])
    return {"requests": requests.count, "from": requests.from_day.isoformat(), **_summary(report)}


def recompute_days(first_day: str, last_day: str, resummarise: bool = False) -> dict[str, Any]:
    """An admin's recompute of [first_day, last_day] (ISO dates), its progress in the job's meta:
    {"stage", "done", "total"}, read by GET /api/v1/admin/jobs/<id>."""
    settings = Settings.from_env()
    job = get_current_job()
    names = pipeline.stages(resummarise=resummarise)

    def progress(stage: str) -> None:
        if job is not None:
            job.meta["progress"] = {"stage": stage, "done": names.index(stage), "total": len(names)}
            job.save_meta()

    report = pipeline.run(
        settings.database_url,
        date.fromisoformat(first_day),
        date.fromisoformat(last_day),
        redis_client=connect_redis(settings.redis_url, timeout_s=5.0),
        resummarise=resummarise,
        progress=progress,
    )
    if job is not None:
        job.meta["progress"] = {"stage": "done", "done": len(names), "total": len(names)}
        job.save_meta()
    return _summary(report)


def _summary(report: pipeline.PipelineReport) -> dict[str, Any]:
    return {
        "first_day": report.first_day.isoformat(),
        "last_day": report.last_day.isoformat(),
        "seconds": report.seconds,
        "rows": report.rows,
        "data_version": report.data_version,
    }


def raw_payload_retention() -> dict[str, int]:
    """Drop raw payloads older than the `raw_payload_retention_days` setting (default 30)."""
    with psycopg.connect(Settings.from_env().database_url) as conn:
        row = conn.execute(query("maintenance/raw_payload_retention")).fetchone()
    return {"chunks_dropped": int(row[0]) if row else 0}


def record_retention() -> dict[str, int]:
    """Delete finished e-mails and webhook deliveries, and expired tokens, older than the
    `record_retention_days` setting (default 90): rows deleted per table."""
    with psycopg.connect(Settings.from_env().database_url, row_factory=dict_row) as conn:
        row = conn.execute(query("maintenance/record_retention")).fetchone()
    return {name: int(count) for name, count in (row or {}).items()}


def dispatch_webhooks() -> dict[str, int]:
    """The sweep: enqueue webhook deliveries that are pending without a live job."""
    settings = Settings.from_env()
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        return {"enqueued": alerts.dispatch(conn, connect_redis(settings.redis_url))}
