"""Every make target honours the project's variables (PG_PORT, REDIS_PORT, .env, ...) as the scripts do:
`PG_PORT=... make migrate` migrates the database on that port, never the default one."""

from __future__ import annotations

import os
import re
import subprocess

import psycopg
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
