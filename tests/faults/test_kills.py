"""Faults with the real processes: SIGKILL of a gunicorn worker, of an RQ work-horse and of the RQ
worker itself, each under load.

The test starts `scripts/serve.sh` — the supervised API, RQ worker, rq-scheduler and dashboard of
`make run` — against the test database and Redis, with the fake marketplaces behind the fetch jobs.
Eight clients read the API throughout. After each kill the API must answer only documented statuses,
the killed process must come back by itself, the fetch job it held must run to the end exactly once
more (RQ's Retry), and the observations it wrote must equal a clean run's: nothing lost, nothing
written twice. Each test prints how long recovery took.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from rq.job import Job

from jobs import schedule
from jobs.marketplaces import ebay
from service.core.settings import PROJECT_ROOT
from tests.fakes.marketplaces import Fault
from tests.helpers import (
    DOCUMENTED,
    TEST_DATABASE_URL,
    TEST_REDIS_URL,
    Load,
    Stack,
    alive,
    answers,
    children,
    free_port,
    make_settings,
    observations_at,
    start_redis,
    start_serve,
    wait_for,
)


def test_a_killed_api_worker_is_replaced_while_the_other_answers(stack: Stack) -> None:
    master = stack.pid("api")
    workers = wait_for(lambda: found if len(found := children(master)) == 2 else None, "two gunicorn workers")
    victim = min(workers)
    with Load(stack.base) as load:
        time.sleep(1.5)
        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()
        replaced = wait_for(
            lambda: len(now := children(master)) == 2 and victim not in now, "gunicorn to replace its worker", 10
        )
        replaced_s = time.monotonic() - killed
        time.sleep(1.5)
    statuses = load.statuses()
    print(f"answers {dict(statuses)}; worker replaced after {replaced_s:.2f} s")
    assert replaced and stack.pid("api") == master  # the master stayed; supervision did not need to act
    dropped = sum(n for status, n in statuses.items() if isinstance(status, str))
    # A sync worker holds one request at a time: only that request's connection can be cut.
    assert dropped <= 1, statuses
    assert {s for s in statuses if isinstance(s, int)} <= DOCUMENTED, statuses
    assert statuses[200] > 100
    assert set(load.statuses(since=killed + replaced_s)) == {200}, "errors after the replacement"


def _fetch_caught_mid_ingest(stack: Stack, db, fake_market) -> tuple[dict[str, int], str, Any, int]:
    """A clean eBay listings fetch as the reference, then the scheduled fetch through the running
    worker, with the second product's first page hanging: the job is caught with one snapshot
    committed. Returns the clean counts, the job id, the instant it observes, and the horse's pid."""
    ebay.fetch_listings()
    clean_at = db.execute("SELECT max(observed_at) AS t FROM snapshots").fetchone()["t"]
    expected = observations_at(db, clean_at)
    assert expected["snapshots"] == 3 and expected["rows"] == expected["listings"] > 0
    time.sleep(1.01)  # the caught run observes at a new instant

    worker_pid = stack.pid("worker")
    idle = wait_for(lambda: children(worker_pid) or None, "the worker's scheduler process")
    slow = fake_market.products[1].query
    fake_market.faults.append(Fault("/item_summary/search", status=200, delay_s=60, query={"q": slow}))
    seen = len(fake_market.requests)
    subprocess.run(
        [str(Path(sys.executable).parent / "flask"), "--app", "service.app", "jobs", "run", "ebay-listings"],
        cwd=PROJECT_ROOT, check=True, capture_output=True, env={**os.environ, "REDIS_URL": TEST_REDIS_URL},
    )  # fmt: skip
    wait_for(lambda: any(r.query.get("q") == slow for r in fake_market.requests[seen:]), "the slow page")
    started_at = db.execute("SELECT max(observed_at) AS t FROM snapshots").fetchone()["t"]
    assert started_at > clean_at and observations_at(db, started_at)["snapshots"] == 1  # mid-ingest
    horse = (children(worker_pid) - idle).pop()
    job_id = stack.worker().get_current_job_id()
    assert job_id and job_id.startswith("fetch-ebay-listings-")
    return expected, job_id, started_at, horse


def _ran_once_more_and_wrote_once(stack: Stack, db, job_id: str, started_at: Any, expected: dict[str, int]) -> None:
    job = Job.fetch(job_id, connection=stack.redis)
    wait_for(lambda: job.get_status(refresh=True) == "finished", f"job {job_id} to finish on its retry", 60)
    runs = db.execute("SELECT status FROM ingest_runs WHERE job_id = %s ORDER BY id", [job_id]).fetchall()
    assert [r["status"] for r in runs] == ["failed", "succeeded"]  # the killed attempt, then one retry
    assert observations_at(db, started_at) == expected  # nothing lost, nothing duplicated


def test_a_killed_work_horse_is_retried_and_writes_everything_once(stack: Stack, db, fake_market) -> None:
    expected, job_id, started_at, horse = _fetch_caught_mid_ingest(stack, db, fake_market)
    worker_pid = stack.pid("worker")
    fake_market.faults.clear()
    with Load(stack.base) as load:
        os.kill(horse, signal.SIGKILL)
        killed = time.monotonic()
        _ran_once_more_and_wrote_once(stack, db, job_id, started_at, expected)
        recovered_s = time.monotonic() - killed
    print(f"answers {dict(load.statuses())}; job done again {recovered_s:.2f} s after the kill")
    assert stack.pid("worker") == worker_pid and alive(worker_pid)  # the worker itself lived on
    assert set(load.statuses()) <= DOCUMENTED


def test_a_killed_worker_comes_back_deregistered_and_its_job_runs_once_more(stack: Stack, db, fake_market) -> None:
    expected, job_id, started_at, horse = _fetch_caught_mid_ingest(stack, db, fake_market)
    worker_pid = stack.pid("worker")
    fake_market.faults.clear()
    with Load(stack.base) as load:
        os.kill(worker_pid, signal.SIGKILL)  # the worker only: its horse and scheduler are orphaned
        killed = time.monotonic()
        wait_for(lambda: not alive(horse), "the orphaned work-horse to be stopped", 10)
        wait_for(lambda: stack.pid("worker") != worker_pid, "supervision to restart the worker", 15)
        _ran_once_more_and_wrote_once(stack, db, job_id, started_at, expected)
        recovered_s = time.monotonic() - killed
        metrics = requests.get(stack.base + "/metrics", timeout=5).text
    print(f"answers {dict(load.statuses())}; job done again {recovered_s:.2f} s after the kill")
    assert set(load.statuses()) <= DOCUMENTED
    live = [line for line in metrics.splitlines() if line.startswith("boxpro_rq_workers ")]
    assert live == ["boxpro_rq_workers 1.0"], live  # the dead registration is gone; only the new one counts
    assert recovered_s <= 10


def test_the_scheduler_rides_out_a_redis_outage_and_holds_its_schedule_again(tmp_path: Path) -> None:
    port = free_port()
    server = start_redis(port, tmp_path)  # no persistence: it comes back empty, the schedule must too
    url = f"redis://127.0.0.1:{port}/0"
    env = {**os.environ, "REDIS_URL": url, "DATABASE_URL": TEST_DATABASE_URL, "LOG_LEVEL": "WARNING"}
    flask = str(Path(sys.executable).parent / "flask")
    scheduler = subprocess.Popen(
        [flask, "--app", "service.app", "jobs", "scheduler"],
        cwd=PROJECT_ROOT,
        env=env,
        stderr=(tmp_path / "scheduler.log").open("w"),
    )
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    entries = schedule.for_mode(make_settings().data_mode)

    def healthy() -> bool:
        try:
            return schedule.health(client, entries).ok
        except redis.RedisError:
            return False

    try:
        wait_for(healthy, "the scheduler to hold its schedule")
        server.kill()
        server.wait()
        time.sleep(8)  # longer than the scheduler's pause (5 s): its calls fail meanwhile
        assert scheduler.poll() is None, "the scheduler exited during the outage"
        server = start_redis(port, tmp_path)
        wait_for(healthy, "the scheduler to hold its schedule again", 20)
        assert scheduler.poll() is None  # the same process throughout
    finally:
        scheduler.terminate()
        scheduler.wait(timeout=15)
        server.kill()


def test_under_make_run_a_killed_redis_comes_back_with_its_data(db, tmp_path: Path) -> None:
    """Issue 19, defect 9: `make run` supervises its private Redis like the other processes (serve.sh with
    SUPERVISE_REDIS=1, as run.sh starts it). SIGKILL of redis-server: it comes back on its port with
    what its append-only file held, the API is ready again, the other processes were never restarted;
    and the stop ends it with the rest (last: scripts/supervise.sh's SUPERVISE_LAST)."""
    run_dir, redis_port, api_port = tmp_path / "run", free_port(), free_port()
    serve = start_serve(
        tmp_path,
        api_port,
        f"redis-supervision-{api_port}",
        REDIS_HOST="127.0.0.1",
        REDIS_PORT=str(redis_port),
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        VAR_DIR=str(tmp_path / "var"),  # its Redis keeps its append-only file under VAR_DIR/redis
        SUPERVISE_REDIS="1",
        GUNICORN_WORKERS="1",
    )
    base, client = f"http://127.0.0.1:{api_port}", redis.Redis(port=redis_port, socket_connect_timeout=0.5)

    def ready() -> bool:
        try:
            return requests.get(base + "/health/ready", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_for(ready, "the API, ready with its supervised Redis")
        redis_pid, api_pid = int((run_dir / "redis.pid").read_text()), int((run_dir / "api.pid").read_text())
        client.set("boxpro:test:kept", "1")
        time.sleep(1.5)  # appendfsync everysec: on disk within a second
        os.kill(redis_pid, signal.SIGKILL)
        wait_for(lambda: int((run_dir / "redis.pid").read_text()) != redis_pid, "Redis to be started again")
        wait_for(ready, "the API to be ready again", 20)
        assert client.get("boxpro:test:kept") == b"1"  # its append-only file came back with it
        assert int((run_dir / "api.pid").read_text()) == api_pid  # only Redis was restarted
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        serve.wait(timeout=60)
    assert not answers(base + "/health"), "the API still answers after the stop"
    with pytest.raises(redis.ConnectionError):
        client.ping()  # Redis stopped with the rest
