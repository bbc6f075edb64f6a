"""No Docker engine runs on our machines, so the compose file is checked statically: every service
has a pinned image or our build, long-running ones have healthchecks, and every command names an
entry point that really exists in this project's environment."""

from __future__ import annotations

import importlib
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from service.app import create_app
from tests.helpers import make_settings

COMPOSE = yaml.safe_load((Path(__file__).parent.parent / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
VENV_BIN = Path(sys.executable).parent


def test_the_stack_has_the_designed_services_and_images():
    assert {"timescaledb", "redis", "api", "worker", "scheduler", "dashboard"} <= set(SERVICES)
    assert SERVICES["timescaledb"]["image"] == "timescale/timescaledb:2.19.3-pg15"
    assert SERVICES["redis"]["image"] == "redis:7"
    for name in ("api", "worker", "scheduler", "dashboard", "migrate"):
        assert SERVICES[name]["build"] == "."


@pytest.mark.parametrize("name", ["timescaledb", "redis", "api", "worker", "scheduler", "dashboard"])
def test_long_running_services_have_healthchecks(name):
    assert SERVICES[name]["healthcheck"]["test"]


@pytest.mark.parametrize("name", ["api", "worker", "scheduler", "dashboard", "migrate"])
def test_each_command_names_a_real_entry_point(name):
    command = SERVICES[name]["command"]
    assert shutil.which(command[0], path=str(VENV_BIN)), f"{command[0]} is not installed in the venv"
    if command[0] == "gunicorn":
        module, attr = command[-1].split(":")
        assert callable(getattr(importlib.import_module(module), attr))
    if command[0] == "flask":
        app = create_app(make_settings())
        assert command[command.index("--app") + 1] == "service.app"
        group, sub = command[command.index("--app") + 2 :]
        assert sub in app.cli.commands[group].commands  # type: ignore[attr-defined]
    if command[:2] == ["rq", "worker"]:
        assert "--with-scheduler" in command
        worker_class = command[command.index("--worker-class") + 1]
        module, name = worker_class.rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), name))


def test_the_dockerfile_copies_what_the_entry_points_need():
    lines = (Path(__file__).parent.parent / "Dockerfile").read_text().splitlines()
    copied = {token for line in lines if line.startswith("COPY ") for token in line.split()[1:-1]}
    assert {"requirements.txt", "wsgi.py", "gunicorn.conf.py", "service", "jobs", "sql", "migrations"} <= copied
