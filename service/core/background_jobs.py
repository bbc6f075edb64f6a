"""TimescaleDB's own background jobs: the continuous aggregates' refresh policies and its maintenance.

They run inside the database server, out of sight of RQ and of our logs, so one can fail for days while
the API answers: the pipeline refreshes the windows it needs itself, so the data stays right, but a DBA
tuning a policy would never learn that it does nothing. This module reads their state from
`timescaledb_information.job_stats` and `job_errors` for `/metrics`, `/health/ready` and
`flask rollups jobs`.

A job refused for the license (SQLSTATE 0A000 on the Apache-2 edition, where TimescaleDB still
schedules its own history-retention job) is `unsupported`: it can never run on this server, which is
expected and nothing to repair.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row

from service.core.sql import query

FAILING = "failing"
UNSUPPORTED = "unsupported"
OK = "ok"
NEVER_RUN = "never_run"

_FEATURE_NOT_SUPPORTED = "0A000"


@dataclass(frozen=True)
class BackgroundJob:
    job_id: int
    job: str  # the continuous aggregate a refresh policy refreshes, else the job's procedure
    application_name: str
    scheduled: bool
    last_run_status: str | None  # 'Success' or 'Failed'; None before its first run
    last_run_started_at: datetime | None
    last_successful_finish: datetime | None
    next_start: datetime | None
    total_runs: int
    total_failures: int
    last_error_code: str | None  # the last run's error, when it failed
    last_error: str | None

    @property
    def state(self) -> str:
        if self.last_run_status is None:
            return NEVER_RUN
        if self.last_run_status != "Failed":
            return OK
        if self.last_error_code == _FEATURE_NOT_SUPPORTED and "license" in (self.last_error or ""):
            return UNSUPPORTED
        return FAILING

    def summary(self) -> dict[str, Any]:
        """What /health/ready shows of a job that is not ok."""
        return {
            "job_id": self.job_id,
            "job": self.job,
            "state": self.state,
            "total_failures": self.total_failures,
            "last_run_started_at": self.last_run_started_at,
            "last_successful_finish": self.last_successful_finish,
            "last_error": self.last_error,
        }


def background_jobs(conn: psycopg.Connection[Any]) -> list[BackgroundJob]:
    with conn.cursor(row_factory=class_row(BackgroundJob)) as cur:
        return cur.execute(query("timescaledb/background_jobs")).fetchall()
