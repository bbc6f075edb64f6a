"""Real `rq worker` processes: the shared token bucket holds the combined call rate of several
workers, and a worker SIGKILLed in the middle of a fetch loses and duplicates nothing."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from rq import Queue, Retry, SimpleWorker
from rq.job import Job
from rq.registry import StartedJobRegistry

from jobs.marketplaces import ebay, fetch, tcgplayer
from service.core.settings import PROJECT_ROOT
from tests.fakes import fixtures
from tests.fakes.marketplaces import Fault
from tests.helpers import clear_of_window_edges, observations_at

fake_market = fixtures.fake_market
marketplace_env = fixtures.marketplace_env
RQ = str(Path(sys.executable).with_name("rq"))
ROOT = PROJECT_ROOT


def _worker(env: dict[str, str], queue: str, log: Path, *, burst: bool) -> subprocess.Popen[bytes]:
    args = [RQ, "worker", "--url", env["REDIS_URL"], "--name", f"{queue}-{time.monotonic_ns()}", queue]
    if burst:
        args.insert(2, "--burst")
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the work horse dies with it
    )


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_several_workers_share_one_rate_limit(db, products, fake_market, marketplace_env, redis_db, tmp_path):
    rate, burst = 8.0, 2
    env = {**marketplace_env, "EBAY_RATE_PER_S": str(rate), "EBAY_BURST": str(burst), "EBAY_PAGE_LIMIT": "4"}
    queue = Queue("ratelimit-test", connection=redis_db)
    jobs = [queue.enqueue("jobs.marketplaces.ebay.fetch_listings", [pid], job_timeout=120) for pid in products]
    workers = [_worker(env, queue.name, tmp_path / f"worker{i}.log", burst=True) for i in range(3)]
    try:
        for w in workers:
            assert w.wait(timeout=60) == 0
    finally:
        for w in workers:
            if w.poll() is None:
                os.killpg(w.pid, signal.SIGKILL)
    for job in jobs:
        job.refresh()
        assert job.is_finished, (tmp_path / "worker0.log").read_text()[-3000:]
    assert len({job.worker_name for job in jobs}) >= 2  # the work really was spread over processes

    times = sorted(r.at for r in fake_market.requests)
    assert len(times) >= 20
    # Any window of length T holds at most burst + rate * T calls, plus one per worker for arrival
    # jitter: the bucket times the tokens, and a worker holding a granted token may be scheduled late,
    # so its call reaches the fake together with later ones. Unshared, 3 workers would triple the rate.
    for i, j in itertools.combinations(range(len(times)), 2):
        window = times[j] - times[i]
        assert j - i + 1 <= burst + rate * window + len(workers), f"{j - i + 1} calls within {window:.3f}s"
    overall = (len(times) - burst) / (times[-1] - times[0])
    assert overall <= rate * 1.1


def test_a_worker_killed_mid_fetch_loses_and_duplicates_nothing(
    db, products, fake_market, marketplace_env, redis_db, tmp_path
):
    clean = ebay.fetch_listings()  # the reference: a clean run of the same market
    clean_at = db.execute("SELECT max(observed_at) AS t FROM snapshots").fetchone()["t"]
    expected = observations_at(db, clean_at)
    assert expected["snapshots"] == 3 and expected["rows"] == expected["listings"] > 0
    time.sleep(1.01)  # the killed run observes at a new instant

    # The second product's first page hangs, so the worker is caught with one snapshot committed.
    slow_query = fake_market.products[1].query
    fake_market.faults.append(Fault("/item_summary/search", status=200, delay_s=30, query={"q": slow_query}))
    env = {**marketplace_env, "MARKETPLACE_READ_TIMEOUT_S": "60"}
    queue = Queue("kill-test", connection=redis_db)
    job = queue.enqueue("jobs.marketplaces.ebay.fetch_listings", job_timeout=300, retry=Retry(max=2))
    seen = len(fake_market.requests)
    worker = _worker(env, queue.name, tmp_path / "killed.log", burst=False)
    try:
        _wait(lambda: any(r.query.get("q") == slow_query for r in fake_market.requests[seen:]), 30, "the slow page")
        started_at = db.execute("SELECT max(observed_at) AS t FROM snapshots").fetchone()["t"]
        assert started_at > clean_at and observations_at(db, started_at)["snapshots"] == 1  # mid-ingest
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    assert Job.fetch(job.id, connection=redis_db).get_status() == "started"  # nobody finished it

    # RQ's abandoned-job handling, as a worker's maintenance runs it once the dead one's heartbeat
    # (at most job_monitoring_interval + 60 s) has expired: the job has retries left, so it is re-enqueued.
    StartedJobRegistry(queue=queue).cleanup(timestamp=time.time() + 600)
    assert Job.fetch(job.id, connection=redis_db).get_status() == "queued"
    fake_market.faults.clear()
    restarted = _worker(env, queue.name, tmp_path / "restarted.log", burst=True)
    try:
        assert restarted.wait(timeout=60) == 0
    finally:
        if restarted.poll() is None:
            os.killpg(restarted.pid, signal.SIGKILL)
    job.refresh()
    assert job.is_finished, (tmp_path / "restarted.log").read_text()[-3000:]

    assert observations_at(db, started_at) == expected  # nothing lost, nothing duplicated
    runs = db.execute("SELECT status, error FROM ingest_runs WHERE job_id = %s ORDER BY id", [job.id]).fetchall()
    assert [r["status"] for r in runs] == ["failed", "succeeded"]
    assert runs[0]["error"].startswith("abandoned")
    assert clean["status"] == "succeeded"


def test_a_job_pins_its_instant_in_its_meta(db, products, fake_market, marketplace_env, redis_db):
    """A retried job pins the instant of its first attempt in its meta (what makes the retry idempotent)."""
    queue = Queue("pin-test", connection=redis_db)
    job = queue.enqueue("jobs.marketplaces.ebay.fetch_listings", retry=Retry(max=1))
    SimpleWorker([queue], connection=redis_db).work(burst=True)
    job.refresh()
    stamp = db.execute("SELECT DISTINCT observed_at FROM snapshots").fetchone()["observed_at"]
    assert job.meta["observed_at"] == stamp.isoformat()


def test_fetches_fan_out_in_batches_once_per_slot(db, products, fake_market, marketplace_env, redis_db):
    first = fetch.enqueue_fetches("ebay-listings", batch_size=2)
    assert first["products"] == 3 and len(first["enqueued"]) == 2
    again = fetch.enqueue_fetches("ebay-listings", batch_size=2)
    assert again["enqueued"] == [] and again["already_there"] == first["enqueued"]
    queue = Queue("default", connection=redis_db)
    assert [queue.fetch_job(j).args for j in first["enqueued"]] == [([products[0], products[1]],), ([products[2]],)]
    SimpleWorker([queue], connection=redis_db).work(burst=True)
    assert db.execute("SELECT count(*) AS n FROM snapshots WHERE marketplace = 'ebay'").fetchone()["n"] == 3
    prices = tcgplayer.enqueue_prices()
    assert len(prices["enqueued"]) == 1


def test_a_fan_out_after_its_jobs_are_done_fetches_again(db, products, fake_market, marketplace_env, redis_db):
    """An operator's `flask jobs run ebay-listings` after the hour's scheduled run (same slot) fetches
    anew; a trigger while that new job waits still adds nothing."""
    clear_of_window_edges(seconds=3600, margin=15)  # job ids are per hour: all three triggers in one hour
    queue = Queue("default", connection=redis_db)
    first = fetch.enqueue_fetches("ebay-listings")
    SimpleWorker([queue], connection=redis_db).work(burst=True)
    time.sleep(1.01)  # the second fetch observes at a new instant
    again = fetch.enqueue_fetches("ebay-listings")
    assert again["enqueued"] == [f"{job_id}_2" for job_id in first["enqueued"]] and again["already_there"] == []
    assert fetch.enqueue_fetches("ebay-listings")["already_there"] == again["enqueued"]
    SimpleWorker([queue], connection=redis_db).work(burst=True)
    stamps = db.execute("SELECT DISTINCT observed_at FROM snapshots WHERE marketplace = 'ebay'").fetchall()
    assert len(stamps) == 2
    assert queue.fetch_job(again["enqueued"][0]).is_finished
