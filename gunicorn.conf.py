"""gunicorn settings used wherever the API runs (`make run`, docker-compose, `make bench-api`); the
bind address and worker count come from the command line.

Prometheus: each worker process writes its samples to PROMETHEUS_MULTIPROC_DIR and GET /metrics
merges them. The directory is private to this gunicorn master unless the environment names one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from typing import Any

from gunicorn import util

from service.api.security import API_CSP, SECURITY_HEADERS

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


def write_json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """Requests gunicorn cannot parse (a request line over `limit_request_line`, 4094 bytes: 414;
    malformed or too many headers: 400, 431) are answered by gunicorn itself, before the app sees them,
    with an HTML page. The API answers everything in one JSON shape with its security headers, so
    these do too. gunicorn's only hook for that answer is `gunicorn.util.write_error`, replaced below."""
    body = json.dumps(
        {
            "status": status_int,
            "code": reason.lower().replace(" ", "_"),
            "message": f"{reason}: {mesg}"[:300],
            "details": {},
        }
    ).encode()
    headers = [
        ("Connection", "close"),
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        ("Content-Security-Policy", API_CSP),
        *SECURITY_HEADERS,
    ]
    head = f"HTTP/1.1 {status_int} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    util.write_nonblock(sock, head.encode("latin-1") + body)


util.write_error = write_json_error
