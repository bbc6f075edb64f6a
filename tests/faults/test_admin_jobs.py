"""Faults with the real processes (issue 19, defect 4): an admin's job outlives the worker that ran it.

`POST /api/v1/admin/recompute` on `scripts/serve.sh`'s deployment, caught mid-run (the test holds the
lock that runs deriving metrics take turns on, sql/queries/pipeline/take_turns.sql, with the metrics deleted
so that the recompute must write them again). Then its work-horse, or the RQ worker itself, is killed.
Before the fix the job stayed failed ("Work-horse terminated unexpectedly", AbandonedJobError); now it
must run again exactly once, finish, and leave the metrics as a clean run left them.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import requests
from rq.job import Job
from rq.results import Result

from tests.helpers import (
    MARKET_LAST_DAY,
    PASSWORD,
    TEST_DATABASE_URL,
    Stack,
    alive,
    bearer,
    children,
    wait_for,
    wait_until_blocked,
)


def metrics(db) -> list[dict[str, Any]]:
    """Every metrics row but when it was computed."""
    rows = db.execute("SELECT * FROM product_metrics_daily ORDER BY day, product_id").fetchall()
    return [{column: value for column, value in row.items() if column != "computed_at"} for row in rows]


@pytest.fixture
def admin(stack: Stack, db) -> dict[str, str]:
    """An admin's bearer header, signed in on the deployment (the role is in the token)."""
    account = {"email": "root@example.com", "password": PASSWORD}
    assert requests.post(f"{stack.base}/api/v1/auth/register", json=account, timeout=10).status_code == 202
    db.execute("UPDATE users SET role = 'admin' WHERE email = 'root@example.com'")
    return bearer(requests.post(f"{stack.base}/api/v1/auth/login", json=account, timeout=10).json()["access_token"])


@pytest.fixture
def derived_lock() -> Iterator[psycopg.Connection]:
    """Holds the lock that runs deriving metrics take turns on, until the test releases it."""
    with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext('pipeline-derived'))")
        yield conn


def _recompute_caught_mid_run(stack: Stack, db, admin: dict[str, str]) -> tuple[list[dict[str, Any]], Job, int]:
    """The clean metrics, the admin's recompute job (blocked on the test's lock), its horse's pid."""
    clean = metrics(db)
    first = db.execute("SELECT min(day) AS day FROM product_metrics_daily").fetchone()["day"]
    assert clean and first is not None
    db.execute("DELETE FROM product_metrics_daily")
    worker_pid = stack.pid("worker")
    idle = wait_for(lambda: children(worker_pid) or None, "the worker's scheduler process")
    body = {"from": first.isoformat(), "to": MARKET_LAST_DAY}
    answer = requests.post(f"{stack.base}/api/v1/admin/recompute", json=body, headers=admin, timeout=10)
    assert answer.status_code == 202, answer.text
    job = Job.fetch(answer.json()["id"], connection=stack.redis)
    wait_for(lambda: job.get_status(refresh=True) == "started", "the recompute to start")
    wait_until_blocked(TEST_DATABASE_URL, lambda: True)  # on the test's lock
    horse = (children(worker_pid) - idle).pop()
    return clean, job, horse


def _ran_once_more_and_left_the_metrics_right(stack: Stack, db, job: Job, lock, clean) -> None:
    def second_run() -> bool:
        job.refresh()
        return job.get_status() == "started" and job.retries_left == 0  # its one more run, blocked again

    wait_for(second_run, "the job's second run")
    lock.execute("SELECT pg_advisory_unlock(hashtext('pipeline-derived'))")
    wait_for(lambda: job.get_status(refresh=True) == "finished", f"job {job.id} to finish on its second run", 60)
    job.refresh()
    results = [result.type for result in Result.all(job)]
    assert (job.retries_left, results) == (0, [Result.Type.SUCCESSFUL]), results  # killed, then once more
    assert job.latest_result().return_value["rows"]["metrics"] == len(clean)
    assert metrics(db) == clean


def test_a_killed_work_horse_runs_the_admins_recompute_once_more(stack: Stack, db, admin, derived_lock) -> None:
    clean, job, horse = _recompute_caught_mid_run(stack, db, admin)
    worker_pid = stack.pid("worker")
    os.kill(horse, signal.SIGKILL)
    _ran_once_more_and_left_the_metrics_right(stack, db, job, derived_lock, clean)
    assert stack.pid("worker") == worker_pid and alive(worker_pid)  # the worker itself lived on


def test_a_killed_worker_runs_the_admins_recompute_once_more(stack: Stack, db, admin, derived_lock) -> None:
    clean, job, horse = _recompute_caught_mid_run(stack, db, admin)
    worker_pid = stack.pid("worker")
    os.kill(worker_pid, signal.SIGKILL)  # the worker only: the supervisor stops its horse and hands the job back
    wait_for(lambda: not alive(horse), "the orphaned work-horse to be stopped", 10)
    wait_for(lambda: stack.pid("worker") != worker_pid, "supervision to restart the worker", 15)
    _ran_once_more_and_left_the_metrics_right(stack, db, job, derived_lock, clean)
