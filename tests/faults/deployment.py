"""A deployment for fault tests: `scripts/serve.sh` -- the supervised API, RQ worker, rq-scheduler and
dashboard of `make run` -- against the test database and Redis, with the fake marketplaces behind the
fetch jobs; clients that read it under load; and the process tree, to find what to kill.

Test modules bind the fixture by assignment (`stack = deployment.stack`), with the fake marketplaces'
fixtures it needs (tests/fakes/fixtures.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from rq import Worker

from service.core.settings import PROJECT_ROOT
from tests.helpers import TEST_DATABASE_URL, TEST_REDIS_URL, free_port

DOCUMENTED = {200, 304, 429, 503}
READS = ["/api/v1/leaderboard?limit=50", "/api/v1/products/op-01-box", "/api/v1/games", "/api/v1/movers"]


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return found


def processes() -> Iterator[tuple[int, int, int]]:
    """(pid, parent pid, session id) of every live process."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # pid (comm) state ppid pgrp session ...: comm may hold spaces, so split after its ')'.
            state, ppid, _, session = stat.read_text().rsplit(")", 1)[1].split()[:4]
            if state != "Z":
                yield int(stat.parent.name), int(ppid), int(session)


def children(pid: int) -> set[int]:
    return {child for child, parent, _ in processes() if parent == pid}


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@dataclass
class Stack:
    """`scripts/serve.sh` running as a test's deployment."""

    base: str
    run_dir: Path
    worker_name: str
    redis: Any
    process: subprocess.Popen[bytes]

    def pid(self, name: str) -> int:
        """The current pid of a supervised process (api: the gunicorn master; worker: the rq worker)."""
        return int((self.run_dir / f"{name}.pid").read_text())

    def worker(self) -> Worker | None:
        return Worker.find_by_key(Worker.redis_worker_namespace_prefix + self.worker_name, connection=self.redis)


@dataclass
class Load:
    """Eight clients reading the API in a loop; every answer (or failure to get one) with its time."""

    base: str
    clients: int = 8
    answers: list[tuple[float, int | str]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def _client(self) -> None:
        session = requests.Session()
        i = 0
        while not self._stop.is_set():
            try:
                status: int | str = session.get(self.base + READS[i % len(READS)], timeout=10).status_code
            except requests.RequestException as error:
                status = type(error).__name__
            self.answers.append((time.monotonic(), status))
            i += 1

    def __enter__(self) -> Load:
        self._threads = [threading.Thread(target=self._client) for _ in range(self.clients)]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)

    def statuses(self, since: float = 0.0) -> Counter[int | str]:
        return Counter(status for at, status in self.answers if at >= since)


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


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).ok
    except requests.RequestException:
        return False
