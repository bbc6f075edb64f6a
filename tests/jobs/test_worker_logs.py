"""The worker as `make run` and docker-compose start it logs through the project's structured logging:
its jobs' info lines (the console mail backend's e-mails, skipped adapters, the pipeline) are seen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from rq import Queue

from service.core.settings import PROJECT_ROOT
from tests.helpers import TEST_REDIS_URL


def test_the_worker_logs_its_jobs_info_lines_as_json(redis_db):
    Queue("default", connection=redis_db).enqueue("logging.info", "a job's info line %s", "seen")
    rq = Path(sys.executable).parent / "rq"
    env = {**os.environ, "LOG_LEVEL": "INFO"}
    done = subprocess.run(
        [str(rq), "worker", "--url", TEST_REDIS_URL, "--worker-class", "jobs.worker.Worker", "--burst", "default"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert {"level": "info", "logger": "root", "msg": "a job's info line seen"}.items() <= next(
        (line for line in lines if line["msg"].startswith("a job's")), {}
    ).items(), done.stderr + done.stdout
    assert any(line["logger"] == "rq.worker" for line in lines)  # RQ's own lines, once, as JSON too


def test_links_in_e_mails_follow_the_api_port_unless_set():
    script = '. scripts/lib.sh && echo "$PUBLIC_BASE_URL"'
    env = {k: v for k, v in os.environ.items() if k != "PUBLIC_BASE_URL"} | {
        "API_HOST": "127.0.0.1",
        "API_PORT": "18123",
    }
    follows = subprocess.run(["bash", "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert follows.stdout.strip() == "http://127.0.0.1:18123"
    env["PUBLIC_BASE_URL"] = "https://boxpro.example"
    kept = subprocess.run(["bash", "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert kept.stdout.strip() == "https://boxpro.example"
