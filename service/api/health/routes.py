"""Liveness and readiness, for load balancers and operators."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

import redis
from flask import current_app

from service.api.blueprint import Blueprint
from service.api.health.schemas import Liveness, Readiness
from service.core import data_mode, migrations, rollups
from service.core.background_jobs import FAILING, UNSUPPORTED, background_jobs
from service.core.cache import data_state
from service.core.sql import query
from service.extensions import database, redis_client

blp = Blueprint("health", __name__, url_prefix="/health", description="Liveness and readiness probes")


@blp.route("")
@blp.response(200, Liveness)
def liveness() -> dict[str, str]:
    """The process is up. Checks nothing else."""
    return {"status": "ok"}


def _check_database() -> dict[str, Any]:
    settings = current_app.config["SETTINGS"]
    with database().connection(timeout=settings.health_timeout_s) as conn:
        row = conn.execute(query("health/database")).fetchone()
        if row is None:
            return {"ok": False, "error": "the timescaledb extension is not installed"}
        state = migrations.status(conn, settings.migrations_dir)
        mode = data_mode.current(conn) if not state.pending else None
    problem = (
        "migrations are pending: run `flask db upgrade`"
        if state.pending
        else data_mode.mismatch(mode, settings.data_mode)
        if mode is not None and mode != settings.data_mode
        else None
    )
    return {
        "ok": problem is None,
        **row,
        "rollup_mode": rollups.mode_for_license(row["timescaledb_license"]),
        "migration_version": state.version,
        "pending_migrations": state.pending,
        "data_mode": mode,
        **({"error": problem} if problem else {}),
    }


def _check_redis() -> dict[str, Any]:
    redis_client().ping()
    return {"ok": True}


def _check_data() -> dict[str, Any]:
    """Freshness, for people and alerting (boxpro_data_age_seconds too); old data is not a failure."""
    row = database().fetch_one("api/latest_day")
    assert row is not None
    updated = None
    with contextlib.suppress(redis.RedisError):  # reported by the redis check
        _, updated = data_state(redis_client())
    age = (datetime.now(UTC) - updated).total_seconds() if updated else None
    return {"ok": True, "latest_metrics_day": row["day"], "metrics_updated_at": updated, "metrics_age_seconds": age}


def _check_background_jobs() -> dict[str, Any]:
    """TimescaleDB's own jobs (the refresh policies): one whose last run failed is named here. The
    pipeline refreshes every window it needs itself, so answers stay right: a warning, not unready."""
    with database().connection(timeout=current_app.config["SETTINGS"].health_timeout_s) as conn:
        jobs = background_jobs(conn)
    failing = [job.summary() for job in jobs if job.state == FAILING]
    return {
        "ok": not failing,
        "jobs": len(jobs),
        "failing_jobs": failing,
        "unsupported_jobs": [job.job for job in jobs if job.state == UNSUPPORTED],
    }


CHECKS = (
    ("database", _check_database),
    ("redis", _check_redis),
    ("timescaledb_jobs", _check_background_jobs),
    ("data", _check_data),
)
# Reported, but never a reason to take the API out of a load balancer: it answers rightly without them.
WARNINGS = {"timescaledb_jobs", "data"}
# Read from the database: left out while it is down (its check says why), so a probe waits for it once.
FROM_DATABASE = {"timescaledb_jobs", "data"}


@blp.route("/ready")
@blp.response(200, Readiness)
@blp.alt_response(503, schema=Readiness, description="A dependency is failing; `failing` names it")
def readiness() -> tuple[dict[str, Any], int]:
    """Ready to serve: the database (with TimescaleDB, migrated) and Redis answer. 503 otherwise, with
    `status` degraded (only Redis is failing: reads still work, uncached) or unavailable, and `failing`
    naming what failed. A failing TimescaleDB background job (a refresh policy) makes `status` degraded
    with 200 and is named in `warnings`. `checks.data` tells how fresh the metrics are (informational:
    old data does not make the API unready)."""
    checks: dict[str, dict[str, Any]] = {}
    for name, check in CHECKS:
        if name in FROM_DATABASE and not checks["database"]["ok"]:
            continue
        try:
            checks[name] = check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", and is reported
            checks[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    failing = [name for name, result in checks.items() if not result["ok"] and name not in WARNINGS]
    warnings = [name for name, result in checks.items() if not result["ok"] and name in WARNINGS]
    # Without Redis the API still answers from the database (uncached, limits per process):
    # degraded. Without the database it cannot answer: unavailable. Either way not fully ready.
    status = "unavailable" if failing and failing != ["redis"] else "degraded" if failing or warnings else "ok"
    body = {
        "status": status,
        "data_mode": current_app.config["SETTINGS"].data_mode,
        "failing": failing,
        "warnings": warnings,
    }
    return {**body, "checks": checks}, 503 if failing else 200
