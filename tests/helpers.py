"""Helpers the tests share (the fixtures are in conftest.py): where the test servers are, settings for
them, emptying tables, accounts and tokens, hand-written metric rows, and the route tables that the
authorisation and bad-input checks walk, and the handles of the fault tests' deployment (scripts/serve.sh)."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
import psycopg
import redis
import requests
from flask import Flask
from flask.testing import FlaskClient
from rq import Queue, SimpleWorker, Worker

from service.core.settings import PROJECT_ROOT, Settings

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:55432/boxpro_test")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:56379/15")
# The `market` fixture simulates 20 days up to this instant.
MARKET_NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
MARKET_LAST_DAY = MARKET_NOW.date().isoformat()
# Tables that describe the schema or hold reference data seeded by migrations; kept between tests.
KEPT_TABLES = {
    "schema_migrations", "schema_repeatables", "rollup_definitions", "marketplaces", "settings", "data_mode",
    "league_presets",
}  # fmt: skip


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": TEST_DATABASE_URL,
        "redis_url": TEST_REDIS_URL,
        "environment": "test",
        "jwt_secret_key": "test-secret-" + "x" * 40,
        "health_timeout_s": 1.0,
        "db_connect_timeout_s": 1,
        "pipeline_debounce_s": 0.0,  # queue the pipeline at once: tests run it with a burst worker
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def free_port() -> int:
    """A loopback port nothing listens on now, for a server a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_api(env: dict[str, str], workers: int = 2) -> Iterator[str]:
    """The API under gunicorn (the project's gunicorn.conf.py) on a free loopback port, as production runs
    it, with `env` over this process's environment; its base URL while the block runs."""
    port = free_port()
    gunicorn = [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "-w", str(workers)]
    process = subprocess.Popen(
        [*gunicorn, "-b", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=PROJECT_ROOT, env={**os.environ, "LOG_LEVEL": "WARNING", **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                if requests.get(f"{base}/health", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


def clear_of_window_edges(seconds: int = 60, margin: float = 3.0) -> None:
    """Rate limits count in fixed windows (service/api/ratelimit.py). A test that spends a budget waits,
    if need be, until the current window has at least `margin` seconds left, so it never straddles two."""
    left = seconds - time.time() % seconds
    if left < margin:
        time.sleep(left + 0.05)


def observations_at(db: psycopg.Connection, observed_at: object) -> dict[str, int]:
    """Snapshots, listing rows and distinct listings observed at one instant: what a clean fetch and a
    killed-then-retried one must agree on (nothing lost, nothing written twice)."""
    row = db.execute(
        "SELECT (SELECT count(*) FROM snapshots WHERE observed_at = %(t)s) AS snapshots,"
        " (SELECT count(*) FROM listing_snapshots WHERE observed_at = %(t)s) AS rows,"
        " (SELECT count(DISTINCT listing_id) FROM listing_snapshots WHERE observed_at = %(t)s) AS listings",
        {"t": observed_at},
    ).fetchone()
    return dict(row)  # type: ignore[arg-type]


# --- the database -------------------------------------------------------------------------------


def wait_until_blocked(conninfo: str, alive, pid: int | None = None, timeout: float = 30) -> None:
    """Poll pg_stat_activity until a backend of the database (or backend `pid`) waits on a lock,
    while `alive()` (the thread that should get blocked) still runs, for at most `timeout` seconds."""
    sql = """SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
             AND wait_event_type = 'Lock' AND pid <> pg_backend_pid() AND (%s::integer IS NULL OR pid = %s)"""
    deadline = time.monotonic() + timeout
    with psycopg.connect(conninfo, autocommit=True) as probe:
        while alive() and time.monotonic() < deadline:
            row = probe.execute(sql, [pid, pid]).fetchone()
            if row and row[0]:
                return
            time.sleep(0.02)


def empty_data_tables(conn: psycopg.Connection) -> None:
    """Truncate every table but the schema's own and the reference data seeded by migrations, and every
    continuous aggregate: on a server with the Timescale License the rollups are views over
    materialization hypertables of their own, which pg_tables does not list under `public`."""
    tables = [
        row["tablename"]
        for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        if row["tablename"] not in KEPT_TABLES
    ] + [
        row["view_name"]
        for row in conn.execute(
            "SELECT view_name FROM timescaledb_information.continuous_aggregates WHERE view_schema = 'public'"
        )
    ]
    if tables:
        conn.execute(
            psycopg.sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                psycopg.sql.SQL(", ").join(map(psycopg.sql.Identifier, tables))
            )
        )
    conn.execute("UPDATE data_mode SET mode = 'demo' WHERE mode <> 'demo'")  # tests that go live leave it


def insert_products(conn: psycopg.Connection) -> list[int]:
    conn.execute("INSERT INTO games (code, name) VALUES ('one-piece', 'One Piece'), ('pokemon', 'Pokémon')")
    rows = conn.execute(
        """
        INSERT INTO products (slug, game, set_code, name, product_type, release_date, packs_per_box)
        VALUES ('op-01-box', 'one-piece', 'OP-01', 'OP-01 Box', 'booster_box', '2022-12-02', 24),
               ('op-02-box', 'one-piece', 'OP-02', 'OP-02 Box', 'booster_box', '2023-03-10', 24),
               ('sv-151-box', 'pokemon', 'MEW', '151 Box', 'booster_box', NULL, 36)
        RETURNING id
        """
    ).fetchall()
    return [row["id"] for row in rows]


def metrics(db, product_id: int, day: date, **values) -> None:
    """One product_metrics_daily row: NOT NULL columns defaulted, the rest as given."""
    row = {
        "history_days": 30,
        "units_sold": 0,
        "sales_count": 0,
        "volume_usd": 0,
        "volume_24h": values.get("volume_usd", 0),  # equal on every day but the latest, still filling
        "units_added": 0,
        "insufficient_history": False,
        "low_liquidity": False,
        "stale": False,
        **values,
    }
    columns, marks = ", ".join(row), ", ".join(["%s"] * len(row))
    db.execute(
        f"INSERT INTO product_metrics_daily (day, product_id, {columns}) VALUES (%s, %s, {marks})",
        [day, product_id, *row.values()],
    )


def snapshot(db, tables) -> dict[str, list]:
    """Every row of `tables`, to show that a refused request changed nothing."""
    return {t: db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}


# --- accounts -----------------------------------------------------------------------------------

PASSWORD = "correct horse battery"


def register(client, email: str = "ann@example.com", password: str = PASSWORD):
    return client.post("/api/v1/auth/register", json={"email": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_account(client, email: str = "ann@example.com", password: str = PASSWORD) -> dict:
    """Register an address, then sign in: the new account's tokens (registering answers none)."""
    registered = register(client, email, password)
    assert registered.status_code == 202, registered.get_json()
    tokens = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert tokens.status_code == 200, tokens.get_json()
    return tokens.get_json()  # type: ignore[no-any-return]


def sign_in(client, email: str = "ann@example.com") -> dict[str, str]:
    """A new account's bearer header."""
    return bearer(new_account(client, email)["access_token"])


def run_jobs(redis_db) -> None:
    """Run every job queued on the default queue (retries included) in this process, then return."""
    SimpleWorker([Queue("default", connection=redis_db)], connection=redis_db).work(burst=True)


def queued_jobs(redis_db) -> list[str]:
    """The functions of the jobs waiting on the default queue, but the verification e-mails that
    registering the tests' accounts queues."""
    jobs = Queue("default", connection=redis_db).jobs
    return [job.func_name for job in jobs if job.func_name != "jobs.mail.send_email"]


def link_token(message, page: str) -> str:
    """The token of the link to `page` (verify-email, reset-password) in an e-mail."""
    match = re.search(rf"/{page}\?token=([A-Za-z0-9_-]+)", message.get_content())
    assert match, message.get_content()
    return match.group(1)


def assert_422(response, location: str, field: str) -> None:
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["details"][location]


# --- the contract: every answer the tests see, checked against /openapi.json -------------------


class ContractClient(FlaskClient):
    """The Flask test client, checking every JSON answer against the app's own OpenAPI document: its
    status is documented for the operation (errors too, not only by `default`) and its body matches
    the documented schema. Client generators trust exactly these two things."""

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = super().open(*args, **kwargs)
        problem = contract_violation(self.application, response)
        assert problem is None, problem
        return response


_CONTRACTS: dict[int, tuple[dict, dict[str, jsonschema_rs.Validator]]] = {}


def contract_violation(app: Flask, response) -> str | None:  # type: ignore[no-untyped-def]
    environ = response.request.environ
    method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
    if response.mimetype != "application/json" or not response.data or path == "/openapi.json":
        return None
    try:
        rule, _ = app.url_map.bind("localhost").match(path, method, return_rule=True)
    except Exception:  # no route: 404 or 405 from the router, which no operation documents
        return None
    if id(app) not in _CONTRACTS:
        _CONTRACTS[id(app)] = (FlaskClient(app).get("/openapi.json").get_json(), {})
    spec, validators = _CONTRACTS[id(app)]
    operation = spec["paths"].get(re.sub(r"<(?:[^>]*:)?(\w+)>", r"{\1}", rule.rule), {}).get(method.lower())
    if operation is None:
        return None  # not an operation of the API (/metrics)
    where = f"{method} {rule.rule} answered {response.status_code}"
    documented = operation["responses"].get(str(response.status_code))
    if documented is None:
        return f"{where}, a status its operation does not document"
    while "$ref" in documented:
        documented = spec["components"]["responses"][documented["$ref"].rsplit("/", 1)[1]]
    schema = documented.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return f"{where} with a JSON body its operation does not describe"
    key = repr(schema)
    if key not in validators:
        validators[key] = jsonschema_rs.validator_for({**schema, "components": spec["components"]})
    # A gzip answer (service/api/representation.py) is checked as the client reads it: decompressed.
    gzipped = response.headers.get("Content-Encoding") == "gzip"
    body = json.loads(gzip.decompress(response.data)) if gzipped else response.get_json()
    errors = [f"{error.instance_path}: {error.message[:200]}" for error in validators[key].iter_errors(body)]
    return f"{where} with a body off its schema: {errors[:3]}" if errors else None


# --- routes, for the checks that walk every one of them -----------------------------------------

OWNED_TABLES = ("watchlist_items", "alerts", "notifications", "holdings", "webhooks", "webhook_deliveries")
CATALOG_TABLES = ("games", "products", "product_sources", "ingest_runs", "snapshots", "sales", "price_points")

# Valid bodies, so that a refusal is about who asks or how, not about what was sent.
BODIES = {
    ("POST", "/api/v1/me/alerts"): {"product": "op-01-box", "kind": "floor_below", "price": 10},
    ("PATCH", "/api/v1/me/alerts/<int:alert_id>"): {"active": False, "price": 1},
    ("POST", "/api/v1/me/portfolio"): {"product": "op-01-box", "quantity": 1, "unit_cost": 1},
    ("PATCH", "/api/v1/me/portfolio/<int:holding_id>"): {"quantity": 99},
    ("POST", "/api/v1/me/watchlist"): {"product": "op-02-box"},
    ("PUT", "/api/v1/me/webhook"): {"url": "https://evil.example.com/steal"},
    ("POST", "/api/v1/me/password"): {"current_password": "x" * 12, "new_password": "y" * 12},
    ("PATCH", "/api/v1/me"): {"alert_emails": True},
    ("POST", "/api/v1/auth/verify-email"): {"token": "x" * 43},
    ("POST", "/api/v1/auth/password-reset"): {"email": "ann@example.com"},
    ("POST", "/api/v1/auth/password-reset/confirm"): {"token": "x" * 43, "password": "purple elephant umbrella"},
    ("POST", "/api/v1/admin/games"): {"code": "lorcana", "name": "Lorcana"},
    ("PATCH", "/api/v1/admin/games/<string:code>"): {"name": "Renamed"},
    ("POST", "/api/v1/admin/jobs"): {"name": "sim-tick"},
    ("POST", "/api/v1/admin/recompute"): {"from": "2026-02-01", "to": "2026-03-01"},
    ("POST", "/api/v1/admin/products"): {"game": "one-piece", "name": "X Box", "product_type": "booster_box"},
    ("PATCH", "/api/v1/admin/products/<string:product>"): {"notes": "hacked"},
    ("POST", "/api/v1/admin/products/<string:product>/sources"): {"marketplace": "ebay"},
    ("PATCH", "/api/v1/admin/sources/<int:source_id>"): {"active": False},
    ("POST", "/api/v1/admin/import/<any(listings, sales, prices):kind>"): {
        "rows": [{"product": "op-01-box", "sold_at": "2026-03-01T00:00:00Z", "unit_price": 1}]
    },
}


def fill(rule: str, ids: dict[str, object]) -> str:
    """A concrete path for a rule: path parameters from `ids` (another user's ids, where they exist)."""

    def value(match: re.Match[str]) -> str:
        converter, name = match.group(1), match.group(2)
        if converter.startswith("any("):
            return converter[4:].split(",")[0].strip()
        return str(ids.get(name, "1" if converter == "int" else "x"))

    return re.sub(r"<([^:>]+(?:\([^)]*\))?):(\w+)>", value, rule)


# --- fault tests: `scripts/serve.sh` as a deployment (the `stack` fixture is in tests/faults/conftest.py) ---

DOCUMENTED = {200, 304, 429, 503}  # what the API may answer under a fault
READS = ["/api/v1/leaderboard?limit=50", "/api/v1/products/op-01-box", "/api/v1/games", "/api/v1/movers"]


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return found


def processes() -> Iterator[tuple[int, int, int]]:
    """(pid, parent pid, session id) of every live process."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # pid (comm) state ppid pgrp session ...: comm may hold spaces, so split after its ')'.
            state, ppid, _, session = stat.read_text().rsplit(")", 1)[1].split()[:4]
            if state != "Z":
                yield int(stat.parent.name), int(ppid), int(session)


def children(pid: int) -> set[int]:
    return {child for child, parent, _ in processes() if parent == pid}


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@dataclass
class Stack:
    """`scripts/serve.sh` running as a test's deployment."""

    base: str
    run_dir: Path
    worker_name: str
    redis: Any
    process: subprocess.Popen[bytes]

    def pid(self, name: str) -> int:
        """The current pid of a supervised process (api: the gunicorn master; worker: the rq worker)."""
        return int((self.run_dir / f"{name}.pid").read_text())

    def worker(self) -> Worker | None:
        return Worker.find_by_key(Worker.redis_worker_namespace_prefix + self.worker_name, connection=self.redis)


@dataclass
class Load:
    """Eight clients reading the API in a loop; every answer (or failure to get one) with its time."""

    base: str
    clients: int = 8
    answers: list[tuple[float, int | str]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def _client(self) -> None:
        session = requests.Session()
        i = 0
        while not self._stop.is_set():
            try:
                status: int | str = session.get(self.base + READS[i % len(READS)], timeout=10).status_code
            except requests.RequestException as error:
                status = type(error).__name__
            self.answers.append((time.monotonic(), status))
            i += 1

    def __enter__(self) -> Load:
        self._threads = [threading.Thread(target=self._client) for _ in range(self.clients)]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)

    def statuses(self, since: float = 0.0) -> Counter[int | str]:
        return Counter(status for at, status in self.answers if at >= since)


def start_serve(tmp_path: Path, api_port: int, worker_name: str, **env: str) -> subprocess.Popen[bytes]:
    """`scripts/serve.sh` -- the supervised processes of `make run` -- as a test's deployment, on the test
    database, in a session of its own (a test stops it all with one killpg), logging to serve.log; `env`
    adds to or overrides its environment (REDIS_URL first of all)."""
    environment = {
        **os.environ,
        "DATABASE_URL": TEST_DATABASE_URL,
        "API_HOST": "127.0.0.1",
        "API_PORT": str(api_port),
        "DASHBOARD_PORT": str(free_port()),
        "WORKER_NAME": worker_name,
        "SUPERVISE_DIR": str(tmp_path / "run"),
        "JWT_SECRET_KEY": "faults-" + "k" * 40,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        "LOG_LEVEL": "WARNING",
        "STOP_TIMEOUT_S": "10",
        **env,
    }
    with (tmp_path / "serve.log").open("ab") as log:
        return subprocess.Popen(
            ["bash", str(PROJECT_ROOT / "scripts/serve.sh")],
            cwd=PROJECT_ROOT, env=environment, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).ok
    except requests.RequestException:
        return False


REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def start_redis(port: int, directory: Path, persist: bool = False) -> subprocess.Popen[bytes]:
    """A redis-server of the test's own. `persist`: with an append-only file in `directory`, as `make run`
    and docker-compose run it, so a restarted server comes back with its keys."""
    process = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "yes" if persist else "no", "--dir", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port, socket_connect_timeout=0.2)
    for _ in range(100):
        try:
            client.ping()
            return process
        except redis.RedisError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")
