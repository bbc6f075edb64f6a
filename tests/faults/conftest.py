"""The fault tests' deployment: `scripts/serve.sh` -- the supervised API, RQ worker, rq-scheduler and
dashboard of `make run` -- against the test database and Redis, with the fake marketplaces behind the
fetch jobs (tests/fakes/fixtures.py). Its handles and the process tree are in tests/helpers.py."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.core.settings import PROJECT_ROOT
from tests.fakes import fixtures
from tests.helpers import TEST_DATABASE_URL, TEST_REDIS_URL, Stack, answers, free_port, processes, wait_for

fake_market = fixtures.fake_market
marketplace_env = fixtures.marketplace_env


@pytest.fixture
def stack(market, fake_market, marketplace_env, redis_db, tmp_path: Path) -> Iterator[Stack]:
    run_dir, port = tmp_path / "run", free_port()
    worker_name = f"faults-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        **marketplace_env,
        "DATABASE_URL": TEST_DATABASE_URL,
        "REDIS_URL": TEST_REDIS_URL,
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
        "DASHBOARD_PORT": str(free_port()),
        "GUNICORN_WORKERS": "2",
        "WORKER_NAME": worker_name,
        "SUPERVISE_DIR": str(run_dir),
        "JWT_SECRET_KEY": "faults-" + "k" * 40,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        "RATE_LIMIT_DEFAULT": "100000/minute",
        "LOG_LEVEL": "WARNING",
        "STOP_TIMEOUT_S": "10",
        "FETCH_RETRY_S": "1,1,1",  # production waits 30 s before the first retry
        "MARKETPLACE_READ_TIMEOUT_S": "60",  # the slow page below must hang, not time out
    }
    log = (tmp_path / "serve.log").open("ab")
    process = subprocess.Popen(
        ["bash", str(PROJECT_ROOT / "scripts/serve.sh")],
        cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
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
        log.close()
        left = [pid for pid, _, session in processes() if session in sessions]
        assert not left, f"still running after stop: {left}\n{(tmp_path / 'serve.log').read_text()[-3000:]}"
