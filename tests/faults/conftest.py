"""The fault tests' deployment: `scripts/serve.sh` -- the supervised API, RQ worker, rq-scheduler and
dashboard of `make run` -- against the test database and Redis, with the fake marketplaces behind the
fetch jobs (tests/fakes/fixtures.py). Its handles and the process tree are in tests/helpers.py."""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import fixtures
from tests.helpers import TEST_REDIS_URL, Stack, answers, free_port, processes, start_serve, wait_for

fake_market = fixtures.fake_market
marketplace_env = fixtures.marketplace_env


@pytest.fixture
def stack(market, fake_market, marketplace_env, redis_db, tmp_path: Path) -> Iterator[Stack]:
    run_dir, port = tmp_path / "run", free_port()
    worker_name = f"faults-{uuid.uuid4().hex[:8]}"
    settings = {
        **marketplace_env,
        "REDIS_URL": TEST_REDIS_URL,
        "GUNICORN_WORKERS": "2",
        "RATE_LIMIT_DEFAULT": "100000/minute",
        "FETCH_RETRY_S": "1,1,1",  # production waits 30 s before the first retry
        "MARKETPLACE_READ_TIMEOUT_S": "60",  # the slow page below must hang, not time out
    }
    process = start_serve(tmp_path, port, worker_name, **settings)
    deployment = Stack(f"http://127.0.0.1:{port}", run_dir, worker_name, redis_db, process)
    try:
        wait_for(lambda: answers(deployment.base + "/health"), "the API")
        wait_for(deployment.worker, "the RQ worker to register")
        yield deployment
    finally:
        sessions = {int(p.read_text()) for p in run_dir.glob("*.pid")}
        os.killpg(process.pid, signal.SIGTERM)  # Ctrl-C's path: stop everything
        time.sleep(0.2)
        with contextlib.suppress(ProcessLookupError):  # and again, as `make run` passes the signal on
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        left = [pid for pid, _, session in processes() if session in sessions]
        assert not left, f"still running after stop: {left}\n{(tmp_path / 'serve.log').read_text()[-3000:]}"
