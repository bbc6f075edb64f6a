"""The make targets and `make run` honour the project's variables (PG_PORT, REDIS_PORT, API_PORT, ...)
as the scripts do, and `make run` refuses ports another server holds (issue 19, defects 12 and 18)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
from collections.abc import Iterator

import pytest
from psycopg.conninfo import conninfo_to_dict

from service.core.settings import PROJECT_ROOT
from tests.helpers import TEST_DATABASE_URL

MAKEFILE = (PROJECT_ROOT / "Makefile").read_text()
# A recipe line that runs the project's Python (the flask CLI, a bench) connects to what DATABASE_URL
# and REDIS_URL say, and only scripts/lib.sh derives those from PG_PORT, REDIS_PORT, PG_DB, ...
RUNS_PYTHON = re.compile(r"\$\(FLASK\)|\$\(VENV\)/bin/python")
READS_SETTINGS = re.compile(r"(?:\.|source) scripts/lib\.sh &&")


def project_env(**variables: str) -> dict[str, str]:
    """The environment of a newcomer's shell: no URLs of ours, only the variables given."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    return {**env, **variables}


def test_every_recipe_that_runs_python_reads_the_scripts_settings_first():
    wrong = []
    for line in MAKEFILE.splitlines():
        if line.startswith("\t") and (found := RUNS_PYTHON.search(line)):
            settings = READS_SETTINGS.search(line)
            if settings is None or settings.start() > found.start():
                wrong.append(line.strip())
    assert not wrong, f"these recipes connect to the default ports whatever PG_PORT says: {wrong}"


def test_make_migrate_migrates_the_database_pg_port_and_pg_db_name(db):
    server = conninfo_to_dict(TEST_DATABASE_URL)
    ours = project_env(PG_HOST=server["host"], PG_PORT=str(server["port"]), PG_DB=server["dbname"])
    done = subprocess.run(["make", "migrate"], cwd=PROJECT_ROOT, env=ours, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "database is up to date" in done.stdout

    nowhere = project_env(PG_HOST="127.0.0.1", PG_PORT="1")
    refused = subprocess.run(
        ["make", "migrate"], cwd=PROJECT_ROOT, env=nowhere, capture_output=True, text=True, timeout=120
    )
    assert refused.returncode != 0
    assert 'server at "127.0.0.1", port 1 failed' in refused.stdout + refused.stderr


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another server listens on."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


@pytest.mark.parametrize("variable", ["API_PORT", "DASHBOARD_PORT"])
def test_make_run_refuses_a_port_another_server_holds_before_setting_anything_up(taken_port, variable):
    env = project_env(API_HOST="127.0.0.1", **{variable: str(taken_port)})
    run = subprocess.Popen(
        [str(PROJECT_ROOT / "scripts" / "run.sh")], env=env, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        _, stderr = run.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)  # whatever it started (set-up, data init) goes with it
        run.communicate()
        pytest.fail(f"make run went on with {variable} taken")
    assert run.returncode != 0
    assert f"port 127.0.0.1:{taken_port} is taken by another server; set {variable}" in stderr
    assert "starting PostgreSQL" not in stderr  # refused before any set-up
