"""`flask jobs check-scheduler`, the scheduler's healthcheck, against a real `flask jobs scheduler`
process and the test Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs import schedule
from service.core.settings import PROJECT_ROOT
from tests.helpers import TEST_DATABASE_URL, TEST_REDIS_URL

FLASK = str(Path(sys.executable).with_name("flask"))


def check(runner):  # type: ignore[no-untyped-def]
    return runner.invoke(args=["jobs", "check-scheduler", "--this-host"])


def wait_for(condition, what: str, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.fixture
def scheduler_process(redis_db, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """What `make run` and docker-compose start, on the test Redis (demo mode, as the app fixture)."""
    env = {**os.environ, "DATABASE_URL": TEST_DATABASE_URL, "REDIS_URL": TEST_REDIS_URL, "DATA_MODE": "demo"}
    log = tmp_path / "scheduler.log"
    process = subprocess.Popen(
        [FLASK, "--app", "service.app", "jobs", "scheduler"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    yield process
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


def test_the_check_passes_while_the_scheduler_runs_and_fails_once_it_stopped(runner, scheduler_process):
    before = check(runner)
    assert before.exit_code == 1
    assert "no live rq-scheduler on this host" in before.output
    wait_for(lambda: check(runner).exit_code == 0, "the scheduler to register and hold its schedule")
    passed = check(runner)
    assert "is alive" in passed.output
    assert f"holds all {len(schedule.for_mode('demo'))} entries of the demo schedule" in passed.output
    scheduler_process.send_signal(signal.SIGTERM)  # docker stop
    assert scheduler_process.wait(timeout=15) is not None
    stopped = check(runner)
    assert stopped.exit_code == 1
    assert "no live rq-scheduler on this host" in stopped.output


def test_the_check_fails_when_the_running_scheduler_lost_an_entry(runner, redis_db, scheduler_process):
    wait_for(lambda: check(runner).exit_code == 0, "the scheduler to register and hold its schedule")
    schedule.scheduler(redis_db).cancel("schedule-pipeline-catch-up")
    lost = check(runner)
    assert lost.exit_code == 1
    assert "is alive" in lost.output
    assert "not held as declared: pipeline-catch-up" in lost.output
