"""No Docker engine runs on our machines, so docker-compose.yml and the Dockerfile are checked
statically, against what they must agree with: the processes `make run` starts (scripts/run.sh, scripts/serve.sh), the
variables the code reads (the settings' declarations), the app's commands and routes, and the files
the code opens at run time."""

from __future__ import annotations

import ast
import importlib
import re
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import pytest
import yaml
from flask import Flask

from jobs.marketplaces import registry
from service.commands import config
from service.core.settings import Env, Settings

ROOT = Path(__file__).parent.parent
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, Any] = COMPOSE["services"]
OURS = sorted(name for name, service in SERVICES.items() if service.get("build") == ".")
LONG_RUNNING = sorted(name for name, service in SERVICES.items() if service.get("restart") != "no")
VENV_BIN = Path(sys.executable).parent
RUN_SH = (ROOT / "scripts" / "run.sh").read_text()  # set-up and data init, then serve.sh
SERVE_SH = (ROOT / "scripts" / "serve.sh").read_text()  # the long-running processes
DEPLOY_MD = (ROOT / "docs" / "DEPLOY.md").read_text()
# Arguments that say where a process listens or connects: the same process differs there between
# `make run` (loopback, private ports) and compose (every address, service names).
ENDPOINT_OPTIONS = {"--bind", "--port", "--url", "--redis-url"}


def normalised(command: list[str]) -> list[str]:
    out: list[str] = []
    for token in command:
        out.append("<endpoint>" if out and out[-1] in ENDPOINT_OPTIONS else token)
    return out


def make_run_processes() -> list[list[str]]:
    """The long-running processes scripts/serve.sh starts (`supervise NAME <command> & pids+=($!)`), without
    the supervisor, redirections and the worker's fixed `--name` (a compose worker is named by RQ)."""
    lines = re.findall(r"^supervise \S+ (.+?)\s*&\s*pids\+=\(\$!\)\s*$", SERVE_SH, re.MULTILINE)
    commands = [[t for t in shlex.split(line) if not re.match(r"^\d*>", t)] for line in lines]
    for command in commands:
        if "--name" in command:
            del command[command.index("--name") : command.index("--name") + 2]
    return commands


def make_run_init() -> list[str]:
    (line,) = re.findall(r"^flask --app service.app data init.*$", RUN_SH, re.MULTILINE)
    return shlex.split(line)


def code_variables() -> set[str]:
    """Every variable the Python code reads: the settings and each marketplace adapter's section."""
    env = Env({})
    Settings.read(env)
    registry.read_configs(env)
    return set(env.declared)


def declared_variables() -> set[str]:
    """Those and the ones scripts and compose read: what .env.example lists."""
    return set(re.findall(r"^# ([A-Z][A-Z0-9_]*)=", config.example(), re.MULTILINE))


def interpolations() -> list[tuple[str, str]]:
    """Each `${NAME<operator>...}` in the compose file: (NAME, operator)."""
    found = re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?]?)([^}]*)\}", COMPOSE_TEXT)
    # compose-go tries defaults first when a hyphen comes before the first "?" of a value: an error
    # message with a hyphen could be taken for a default.
    assert not [name for name, operator, message in found if "?" in operator and "-" in message]
    return [(name, operator) for name, operator, _ in found]


def flask_command(app: Flask, argv: list[str]) -> click.Command:
    """The app's click command that `flask --app service.app <group> <command> ...` names."""
    assert argv[:3] == ["flask", "--app", "service.app"], argv
    group: Any = app.cli.commands[argv[3]]
    return group.commands[argv[4]]  # type: ignore[no-any-return]


def test_the_stack_has_the_designed_services_and_images():
    assert {"timescaledb", "redis", "init", "api", "worker", "scheduler", "dashboard"} == set(SERVICES)
    assert SERVICES["timescaledb"]["image"] == "timescale/timescaledb:2.19.3-pg15"
    assert SERVICES["redis"]["image"] == "redis:7"
    assert OURS == ["api", "dashboard", "init", "scheduler", "worker"]
    assert LONG_RUNNING == ["api", "dashboard", "redis", "scheduler", "timescaledb", "worker"]
    for name, service in SERVICES.items():  # docker keeps logs unbounded unless told
        assert service["logging"]["options"]["max-size"], name


def test_every_process_make_run_starts_runs_in_compose_with_the_same_command():
    processes = make_run_processes()
    assert [p[0] for p in processes] == ["gunicorn", "rq", "flask", "rq-dashboard"]
    in_compose = {name: normalised(SERVICES[name]["command"]) for name in OURS if name != "init"}
    for process in processes:
        assert normalised(process) in in_compose.values(), f"no compose service runs {shlex.join(process)}"
    assert len(in_compose) == len(processes), "compose runs a process `make run` does not"


def test_compose_processes_reach_the_stack_where_compose_puts_it():
    redis_url = SERVICES["api"]["environment"]["REDIS_URL"]
    assert urlsplit(re.sub(r"\$\{[^}]*\}", "password", redis_url)).hostname == "redis"
    database_url = re.sub(r"\$\{[^}]*\}", "password", SERVICES["api"]["environment"]["DATABASE_URL"])
    assert urlsplit(database_url).hostname == "timescaledb"
    worker, dashboard = SERVICES["worker"]["command"], SERVICES["dashboard"]["command"]
    assert worker[worker.index("--url") + 1] == redis_url
    assert dashboard[dashboard.index("--redis-url") + 1] == redis_url
    for name, option in (("api", "--bind"), ("dashboard", "--port")):
        command = SERVICES[name]["command"]
        port = command[command.index(option) + 1].rsplit(":", 1)[-1]
        assert [mapping.rsplit(":", 1)[-1] for mapping in SERVICES[name]["ports"]] == [port]


def test_init_runs_what_make_run_runs_first_and_everything_waits_for_it():
    init = SERVICES["init"]
    assert init["command"] == make_run_init()
    assert init["restart"] == "no"
    assert init["depends_on"] == {
        "timescaledb": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    for name in ("api", "worker", "scheduler"):
        assert SERVICES[name]["depends_on"]["init"] == {"condition": "service_completed_successfully"}


@pytest.mark.parametrize("name", OURS)
def test_each_command_names_a_real_entry_point(app, name):
    command = SERVICES[name]["command"]
    assert shutil.which(command[0], path=str(VENV_BIN)), f"{command[0]} is not installed in the venv"
    if command[0] == "gunicorn":
        module, attr = command[-1].split(":")
        assert callable(getattr(importlib.import_module(module), attr))
    if command[0] == "flask":
        cli = flask_command(app, command)
        options = {opt for param in cli.params for opt in param.opts}
        assert {token for token in command[5:] if token.startswith("--")} <= options
    if command[:2] == ["rq", "worker"]:
        assert "--with-scheduler" in command
        worker_class = command[command.index("--worker-class") + 1]
        module, attr = worker_class.rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), attr))


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_services_have_healthchecks(name):
    test = SERVICES[name]["healthcheck"]["test"]
    assert test[0] in ("CMD", "CMD-SHELL") and test[1:] != ["true"]


def test_the_healthchecks_of_our_processes_check_what_they_do(app):
    # api: ready, i.e. the database (migrated, in this DATA_MODE) and Redis answer; a real route.
    (url,) = re.findall(r"'(http://[^']+)'", SERVICES["api"]["healthcheck"]["test"][-1])
    assert urlsplit(url).path == "/health/ready"
    assert "/health/ready" in {rule.rule for rule in app.url_map.iter_rules()}
    # dashboard: its own port answers.
    (url,) = re.findall(r"'(http://[^']+)'", SERVICES["dashboard"]["healthcheck"]["test"][-1])
    command = SERVICES["dashboard"]["command"]
    assert str(urlsplit(url).port) == command[command.index("--port") + 1]
    # worker and scheduler: their own process, registered in Redis and doing its job.
    checks = {"worker": ["jobs", "workers", "--this-host"], "scheduler": ["jobs", "check-scheduler", "--this-host"]}
    for name, argv in checks.items():
        test = SERVICES[name]["healthcheck"]["test"]
        assert test[:4] == ["CMD", "flask", "--app", "service.app"] and test[4:] == argv
        cli = flask_command(app, test[1:])
        assert "--this-host" in {opt for param in cli.params for opt in param.opts}


def test_compose_passes_our_processes_only_variables_the_code_reads():
    read = code_variables()
    for name in OURS:
        passed = set(SERVICES[name].get("environment", {}))
        assert passed <= read, f"{name}: the code reads none of {sorted(passed - read)}"
    assert SERVICES["api"]["environment"]["BOXPRO_ENV"] == "production"
    assert "environment" not in SERVICES["dashboard"] and "env_file" not in SERVICES["dashboard"]  # no secrets


def test_other_images_variables_are_documented():
    for name in sorted(set(SERVICES) - set(OURS)):
        for variable in SERVICES[name].get("environment", {}):
            assert f"`{variable}`" in DEPLOY_MD, f"{name}'s {variable} is not explained in docs/DEPLOY.md"


def test_every_variable_compose_interpolates_is_declared_and_secrets_are_required():
    declared = declared_variables()
    used = interpolations()
    assert {name for name, _ in used} <= declared
    env = Env({})
    Settings.read(env)
    secrets = {v.name for v in env.declared.values() if v.secret} | {"POSTGRES_PASSWORD", "REDIS_PASSWORD"}
    for name, operator in used:
        if name in secrets:
            assert operator in (":?", "?"), f"{name} must be required (${{{name}:?...}}), never defaulted"
    required = {name for name, operator in used if operator == ":?"}
    assert {"POSTGRES_PASSWORD", "REDIS_PASSWORD", "JWT_SECRET_KEY", "DATA_MODE"} <= required
    assert ("METRICS_TOKEN", "?") in used  # required, but may be set empty to leave /metrics open


def runtime_paths() -> set[str]:
    """The top-level files and folders the code opens through PROJECT_ROOT (`PROJECT_ROOT / "sql"`)."""
    found: set[str] = set()
    for path in [*(ROOT / "service").rglob("*.py"), *(ROOT / "jobs").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.BinOp)
                and isinstance(node.op, ast.Div)
                and isinstance(node.left, ast.Name)
                and node.left.id == "PROJECT_ROOT"
                and isinstance(node.right, ast.Constant)
            ):
                found.add(str(node.right.value).split("/")[0])
    return found


def test_the_image_holds_what_the_processes_read():
    needed = runtime_paths()
    assert {"migrations", "sql", "data", ".env"} <= needed  # the finder finds what is known
    needed = needed - {".env"} | {"requirements.txt", "wsgi.py", "gunicorn.conf.py", "service", "jobs"}
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    copied = {Path(token).name for line in lines if line.startswith("COPY ") for token in line.split()[1:-1]}
    assert needed <= copied
    ignore = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert ignore[0] == "*", "the build context is an allowlist"
    assert needed <= {line[1:] for line in ignore if line.startswith("!")}
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")


def published_ports() -> dict[str, list[str]]:
    """Each service's published ports, as `host address:host port`."""
    return {
        name: [mapping.rsplit(":", 1)[0] for mapping in service.get("ports", [])]
        for name, service in SERVICES.items()
        if service.get("ports")
    }


def test_every_published_port_is_on_loopback_and_in_the_deploy_guide():
    """What compose publishes and what docs/DEPLOY.md says it publishes are the same list (issue 19: the
    guide said Redis is never published while compose published it, with no password)."""
    published = published_ports()
    for name, ports in published.items():
        assert all(port.startswith("127.0.0.1:") for port in ports), f"{name} publishes beyond loopback: {ports}"
    section = DEPLOY_MD.split("### Published ports", 1)[1].split("\n#", 1)[0]
    documented = {
        row[0].strip("` "): re.findall(r"`(127\.0\.0\.1:\d+)`", row[1])
        for row in (line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| `"))
    }
    assert documented == published, "docs/DEPLOY.md's 'Published ports' table differs from docker-compose.yml"


def test_redis_wants_a_password_that_every_client_carries():
    redis = SERVICES["redis"]
    command = redis["command"]
    assert command[command.index("--requirepass") + 1].startswith("${REDIS_PASSWORD:?"), command
    # redis-cli (the healthcheck, an operator's `docker compose exec redis redis-cli`) authenticates with it.
    assert redis["environment"]["REDISCLI_AUTH"].startswith("${REDIS_PASSWORD:?")
    assert "ping" in " ".join(redis["healthcheck"]["test"]) and "PONG" in " ".join(redis["healthcheck"]["test"])
    urls = [SERVICES["api"]["environment"]["REDIS_URL"]]
    for name in OURS:
        command = SERVICES[name]["command"]
        urls += [command[i + 1] for i, token in enumerate(command) if token in ("--url", "--redis-url")]
    assert len(urls) >= 3
    for url in urls:
        assert url.startswith("redis://:${REDIS_PASSWORD:?") and url.endswith("}@redis:6379/0"), url
    assert "redis://:$REDIS_PASSWORD@127.0.0.1:56379/15" in (ROOT / "README.md").read_text()
