"""`flask settings ...`: what the process would run with, and the .env.example file."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup

from jobs.marketplaces import registry
from service.core.settings import Env, Settings, SettingsError

settings_cli = AppGroup("settings", help="Configuration.")

# Read by the shell scripts (scripts/lib.sh), gunicorn.conf.py and docker-compose.yml, not by Python.
SCRIPT_VARIABLES = (
    ("PG_HOST", "127.0.0.1", "the private PostgreSQL cluster of `make run` / `make test`"),
    ("PG_PORT", "55432", "its port"),
    ("PG_DB", "boxpro", "its database (tests use <PG_DB>_test)"),
    ("PG_USER", "postgres", "its superuser"),
    ("PG_SHARED_BUFFERS", "2GB", "its shared_buffers, set when the cluster is created"),
    ("REDIS_HOST", "127.0.0.1", "the private Redis of `make run` / `make test`"),
    ("REDIS_PORT", "56379", "its port"),
    ("API_HOST", "127.0.0.1", "where `make run` serves the API"),
    ("API_PORT", "8000", "its port"),
    ("DASHBOARD_PORT", "9181", "where `make run` serves rq-dashboard"),
    ("GUNICORN_WORKERS", "4", "API processes (scripts/serve.sh, docker-compose.yml)"),
    (
        "PROMETHEUS_MULTIPROC_DIR",
        "<a fresh temporary directory>",
        "where gunicorn's workers keep their metrics samples (gunicorn.conf.py)",
    ),
    ("WORKER_NAME", "<hostname>-make-run-worker", "the RQ worker's name under `make run`"),
    ("STOP_TIMEOUT_S", "20", "on Ctrl-C, processes get this long to finish their work, then are killed"),
    ("SIM_BACKFILL_DAYS", "90", "days of simulated history `make run` creates on first start"),
    ("VAR_DIR", ".var", "where the private services keep their state"),
    (
        "PG_HOME",
        "<VAR_DIR>/pg",
        "the private PostgreSQL's directory (scripts/services.sh; /var/lib/boxpro/... if postgres cannot use VAR_DIR)",
    ),
    (
        "PG_FAST",
        "0",
        "1: the private PostgreSQL runs without fsync (scripts/services.sh; `make test` sets it: throwaway data)",
    ),
    ("SUPERVISE_DIR", "<VAR_DIR>/run", "where scripts/supervise.sh keeps the state of the processes it supervises"),
    ("VENV", ".venv", "the virtualenv the scripts and the Makefile use"),
    (
        "SUPERVISE_REDIS",
        "0",
        "1: scripts/serve.sh runs the private Redis too, restarting it if it dies (`make run` sets it)",
    ),
    ("BOXPRO_ADMIN_PASSWORD", "", "`flask users create-admin` takes the password from here instead of asking"),
    ("CHROME_PATH", "/usr/bin/chromium", "the Chromium `make bench-web` drives (bench/web.py)"),
    (
        "SCHEMATHESIS_MAX_EXAMPLES",
        "12",
        "examples per operation of the OpenAPI fuzz test (tests/api/test_openapi_fuzz.py)",
    ),
    ("TEST_DATABASE_URL", "", "run the tests against this server instead of the private one (with TEST_REDIS_URL)"),
    ("TEST_REDIS_URL", "", "run the tests against this Redis (a database the tests may flush)"),
    ("POSTGRES_PASSWORD", "", "docker-compose (required there): the database password (docs/DEPLOY.md)"),
    ("REDIS_PASSWORD", "", "docker-compose (required there): Redis' password, in every REDIS_URL (docs/DEPLOY.md)"),
)


def read_all(env: Env) -> tuple[Settings, dict[str, Any]]:
    """Everything the processes read from the environment, validated: the settings, then each
    marketplace adapter's section. A SettingsError names every bad value, one a line."""
    with env.collecting():
        settings, configs = Settings.read(env), registry.read_configs(env)
    return settings, configs


def example() -> str:
    """The text of .env.example: every variable any part of the project reads, with its default."""
    env = Env({})
    read_all(env)
    env.section("Scripts and docker-compose")
    for name, default, meaning in SCRIPT_VARIABLES:
        env.declare(name, default, meaning)
    return env.example()


@settings_cli.command("example")
def settings_example() -> None:
    """Print the .env.example file (every variable, its default and meaning)."""
    click.echo(example(), nl=False)


@settings_cli.command("check")
def settings_check() -> None:
    """Read and validate every setting from the environment and .env; exit 1 naming a bad one."""
    env = Env.load()
    try:
        read_all(env)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    for variable in env.declared.values():
        if variable.name in env.values:
            shown = "(set)" if variable.secret else env.values[variable.name]
            click.echo(f"{variable.name}={shown}")
    click.echo("settings are valid")
