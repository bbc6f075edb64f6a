"""`make run`'s supervision (scripts/supervise.sh), with real processes: a process that exits or is
killed comes back after a growing pause, its leftover children go with it, the others keep running,
and stopping ends every one of them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from service.core.settings import PROJECT_ROOT
from tests.helpers import free_port

SCRIPT = """
. scripts/lib.sh
. scripts/supervise.sh
on_exit() { echo "$1" >> "$SUPERVISE_DIR/exits"; }
trap 'stop_supervised; kill $(jobs -p) 2>/dev/null; wait; exit 0' TERM
supervise flaky sh -c 'echo start >> "$SUPERVISE_DIR/flaky.log"; exit 3' &
supervise steady sh -c 'sleep 1000 & echo $! > "$SUPERVISE_DIR/steady.child"; wait' &
wait
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def wait_for(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_processes_restart_with_backoff_lose_their_children_and_stop_together(tmp_path):
    env = {**os.environ, "SUPERVISE_DIR": str(tmp_path), "VAR_DIR": str(tmp_path)}
    runner = subprocess.Popen(["bash", "-c", SCRIPT], cwd=PROJECT_ROOT, env=env, start_new_session=True)
    try:
        flaky_log = tmp_path / "flaky.log"
        # Exits at once every time: restarted after 1 s, then 2 s (3 starts within about 3 s).
        wait_for(lambda: flaky_log.exists() and len(flaky_log.read_text().split()) >= 3)
        assert (tmp_path / "exits").read_text().split()[:2] == ["flaky", "flaky"]
        wait_for(lambda: (tmp_path / "steady.child").exists())
        steady, child = int((tmp_path / "steady.pid").read_text()), int((tmp_path / "steady.child").read_text())
        assert alive(steady) and alive(child)  # the other process kept running all along

        os.kill(steady, signal.SIGKILL)  # killed outright: its child must not outlive it
        wait_for(lambda: not alive(child))
        wait_for(lambda: int((tmp_path / "steady.pid").read_text()) != steady)  # and it came back
        replacement = int((tmp_path / "steady.pid").read_text())
        wait_for(lambda: int((tmp_path / "steady.child").read_text()) != child)
        new_child = int((tmp_path / "steady.child").read_text())
        assert alive(replacement) and alive(new_child)
    finally:
        runner.send_signal(signal.SIGTERM)  # what Ctrl-C's trap does in make run
        runner.wait(timeout=15)
    wait_for(lambda: not alive(replacement) and not alive(new_child))


def test_make_run_stops_at_once_when_the_api_or_dashboard_port_is_taken(tmp_path):
    for taken, variable in (("API_PORT", "API_PORT"), ("DASHBOARD_PORT", "DASHBOARD_PORT")):
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen()
            ports = {"API_PORT": str(free_port()), "DASHBOARD_PORT": str(free_port())}
            ports[taken] = str(server.getsockname()[1])
            env = {**os.environ, **ports, "API_HOST": "127.0.0.1", "SUPERVISE_DIR": str(tmp_path)}
            done = subprocess.run(
                ["bash", "scripts/serve.sh", "--check-ports"], cwd=PROJECT_ROOT, env=env, capture_output=True,
                text=True, timeout=30,
            )  # fmt: skip
        assert done.returncode != 0
        assert f"port 127.0.0.1:{ports[taken]} is taken by another server; set {variable}" in done.stderr
