"""gunicorn settings used wherever the API runs (`make run`, docker-compose, `make bench-api`); the
bind address and worker count come from the command line.

Prometheus: each worker process writes its samples to PROMETHEUS_MULTIPROC_DIR and GET /metrics
merges them. The directory is private to this gunicorn master unless the environment names one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

# gunicorn's control socket sits at one path per user, so two servers on a machine (the API and a
# benchmark, or tests) would fight over it; nothing here uses it.
control_socket_disable = True

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="boxpro-prometheus-")


def on_starting(server: Any) -> None:
    """Start with an empty directory: samples of a previous run must not count."""
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    """A worker died or was recycled: drop its live gauges (its counters keep counting)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
