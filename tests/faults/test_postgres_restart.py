"""Faults with the real processes: PostgreSQL restarts under load.

gunicorn serves uncached reads (RESPONSE_CACHE=false, so every request needs the database) to eight
clients while the test server is restarted (`pg_ctl restart -m fast`). The API must answer only 200 or
503 with Retry-After (never a 500), and answer 200 again within 5 s of the server being back.
Runs against the private cluster `make test` starts; skipped against a server it cannot restart.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest
import requests

from tests.helpers import TEST_DATABASE_URL, TEST_REDIS_URL, serve_api

PG_CTL = Path("/usr/lib/postgresql/15/bin/pg_ctl")


def data_directory() -> str | None:
    with psycopg.connect(TEST_DATABASE_URL) as conn:
        row = conn.execute("SELECT current_setting('data_directory')").fetchone()
    directory = row[0] if row else None
    return directory if directory and os.path.isdir(directory) and PG_CTL.exists() else None


def test_reads_answer_503_not_500_while_postgres_restarts_and_recover(market, tmp_path):
    directory = data_directory()
    if directory is None:
        pytest.skip("the test database is not a local cluster this test can restart (pg_ctl, data directory)")
    env = {
        "DATABASE_URL": TEST_DATABASE_URL,
        "REDIS_URL": TEST_REDIS_URL,
        "RESPONSE_CACHE": "false",
        "DB_POOL_TIMEOUT_S": "2",
        "RATE_LIMIT_DEFAULT": "100000/minute",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    statuses: Counter[int] = Counter()
    retry_after: set[str | None] = set()
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def client() -> None:
        session = requests.Session()
        paths = ["/api/v1/leaderboard?limit=50", "/api/v1/products/op-01-box", "/api/v1/games"]
        i = 0
        while not stop.is_set():
            try:
                response = session.get(base + paths[i % 3], timeout=15)
            except requests.RequestException:
                statuses[0] += 1  # the API itself unreachable: must not happen
                continue
            i += 1
            statuses[response.status_code] += 1
            if response.status_code == 503:
                retry_after.add(response.headers.get("Retry-After"))

    with serve_api(env) as base:
        threads += [threading.Thread(target=client) for _ in range(8)]
        for thread in threads:
            thread.start()
        try:
            time.sleep(1.5)
            restart = ["runuser", "-u", "postgres", "--", str(PG_CTL), "-D", directory, "restart", "-m", "fast", "-w"]
            subprocess.run(restart, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/")
            back = time.monotonic()
            recovered = None
            while recovered is None and time.monotonic() - back < 15:
                leaderboard = f"{base}/api/v1/leaderboard?limit=5"
                if all(requests.get(leaderboard, timeout=5).status_code == 200 for _ in range(3)):
                    recovered = time.monotonic() - back
                else:
                    time.sleep(0.1)
            time.sleep(1)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=20)
    print(f"statuses {dict(statuses)}, Retry-After {retry_after}, 200 again after {recovered} s")
    assert set(statuses) <= {200, 503}, statuses  # no 500, and the API never stopped answering
    assert retry_after <= {"5"}, retry_after
    assert recovered is not None and recovered <= 5, recovered
