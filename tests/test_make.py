"""Every make target honours the project's variables (PG_PORT, REDIS_PORT, .env, ...) as the scripts do:
`PG_PORT=... make migrate` migrates the database on that port, never the default one; and `make run`
refuses ports another server holds before it sets anything up."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from service.core.settings import PROJECT_ROOT

# Commands that reach PostgreSQL or Redis with whatever DATABASE_URL / REDIS_URL they find.
REACHES_SERVICES = re.compile(r"\$\((FLASK|VENV)\)/?(bin/)?")


def recipes() -> dict[str, list[str]]:
    targets: dict[str, list[str]] = {}
    target = ""
    for line in (PROJECT_ROOT / "Makefile").read_text().splitlines():
        if match := re.match(r"^([a-z][a-z-]*):", line):
            target = match.group(1)
            targets[target] = []
        elif line.startswith("\t") and target:
            targets[target].append(line.strip())
    return targets


def test_every_recipe_that_reaches_the_services_reads_the_scripts_settings_first():
    for target, lines in recipes().items():
        recipe = " ".join(lines)
        found = REACHES_SERVICES.search(recipe)
        if found and target not in {"lint", "format"}:  # ruff, mypy, pytest --collect-only: no services
            assert "scripts/lib.sh" in recipe[: found.start()], f"make {target} runs {found.group()} without lib.sh"


def test_make_migrate_migrates_the_database_on_pg_port(scratch_db_url):
    target = conninfo_to_dict(scratch_db_url)
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "MAKEFLAGS", "MAKELEVEL"}}
    env |= {"PG_HOST": str(target["host"]), "PG_PORT": str(target["port"]), "PG_DB": str(target["dbname"])}
    done = subprocess.run(["make", "migrate"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    with psycopg.connect(scratch_db_url) as conn:
        applied = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
    assert applied and applied[0] > 0


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another server listens on."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


@pytest.mark.parametrize("variable", ["API_PORT", "DASHBOARD_PORT"])
def test_make_run_refuses_a_port_another_server_holds_before_setting_anything_up(taken_port, variable):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env |= {"API_HOST": "127.0.0.1", variable: str(taken_port)}
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
