"""The production rehearsal: a live deployment against the fake marketplaces, run by its real processes.

A scratch database and a Redis database of its own; `flask data init` with DATA_MODE=live; then
gunicorn, two RQ workers (`--with-scheduler`) and the scheduler, started as in production
(docs/OPERATIONS.md). The schedule's fetch entries are triggered with `flask jobs run NAME`, as an
operator would; nothing runs the pipeline by hand: the fetches' writes queue it. The API must then
serve the fakes' numbers, move with a second round of fetches (late eBay sales for an earlier day
included), fire an alert whose webhook is delivered signed, and the database must hold not one row of
a simulated marketplace.

The fakes (tests/fakes/marketplaces.py) serve eBay Browse and Marketplace Insights, TCGplayer's API and
the tcgcsv mirror from a simulated market model; what the test expects is read from that model the way
each marketplace reports it.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

import psycopg
import pytest
import redis
import requests
from psycopg.rows import dict_row
from redis.connection import parse_url
from rq import Queue, Worker
from rq.registry import FailedJobRegistry
from rq_scheduler import Scheduler

from service.core.settings import PROJECT_ROOT
from tests.fakes.fixtures import market_env
from tests.fakes.marketplaces import FakeMarketplaces, FakeProduct
from tests.helpers import PASSWORD, TEST_REDIS_URL, free_port, make_settings

BIN = Path(sys.executable).parent
REDIS_DB = 14  # the rehearsal's own; the rest of the suite uses 15
# The catalog: the first box of each of these games with a TCGplayer id, and one box without (the
# `tcgplayer-map` entry finds it in the fake's catalog, under this id).
GAMES = ("one-piece", "pokemon", "mtg")
UNMAPPED_GAME, UNMAPPED_TCGPLAYER_ID = "lorcana", "5550001"
ENTRIES = ("tcgplayer-prices", "tcgcsv-prices", "ebay-listings", "ebay-sales")  # each round's fetches
FETCH_KINDS = ("fetch-tcgplayer-prices", "fetch-tcgcsv-prices", "fetch-ebay-listings", "fetch-ebay-sales")
ROUND_TIMEOUT_S = 90.0
CENTS = Decimal("0.01")


# --- the processes -------------------------------------------------------------------------------


class Processes:
    """Subprocesses, each leading a process group of its own and logging to a file; `stop` ends every
    process of every group (gunicorn's workers, RQ's work horses), whatever state the test left."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self._files: list[IO[bytes]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        self._files.append(log)
        self.running[name] = subprocess.Popen(
            args,
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def dead(self) -> dict[str, int]:
        return {name: code for name, p in self.running.items() if (code := p.poll()) is not None}

    def tail(self, name: str, chars: int = 2500) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def stop(self) -> None:
        """SIGTERM to every group (workers finish their job, gunicorn drains), SIGKILL what is left."""
        for process in self.running.values():
            _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in self.running.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for process in self.running.values():
            _signal_group(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        for log in self._files:
            log.close()
        deadline = time.monotonic() + 10
        while (left := self.left_behind()) and time.monotonic() < deadline:
            time.sleep(0.1)  # a killed group's members are gone a moment after the signal
        assert not left, f"processes left behind: {left}"

    def left_behind(self) -> list[str]:
        """Live (not zombie) processes still in one of the groups."""
        groups = {p.pid for p in self.running.values()}
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                text = stat.read_text()
                # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its ')'.
                state, _, pgrp = text.rsplit(")", 1)[1].split()[:3]
                if int(pgrp) in groups and state != "Z":
                    found.append(text.split(" ", 1)[0] + " " + text[text.index("(") : text.rindex(")") + 1])
        return found


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _run(args: list[str], env: dict[str, str], timeout: float = 120) -> str:
    done = subprocess.run(args, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _flask(*args: str) -> list[str]:
    return [str(BIN / "flask"), "--app", "service.app", *args]


# --- the webhook receiver ------------------------------------------------------------------------


class Receiver(ThreadingHTTPServer):
    """A user's webhook endpoint on loopback: records what it gets, answers 204."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/boxpro-hook"


# --- what the fakes report, the way each marketplace reports it --------------------------------


def _money(text: str) -> Decimal:
    return Decimal(text).quantize(CENTS)


def fake_floor(fake: FakeMarketplaces, product_id: int) -> Decimal:
    """The cheapest landed price (price + shipping) among the product's eBay listings."""
    return min(
        _money(item["price"]["value"]) + _money(item["shippingOptions"][0]["shippingCost"]["value"])
        for item in fake.book(product_id)
    )


def fake_market_price(fake: FakeMarketplaces, product_id: int) -> Decimal:
    """TCGplayer's market price, as its API and the mirror serve it."""
    return _money(str(round(float(fake.state.market_price[fake.index[product_id]]), 2)))


@dataclass
class SalesLedger:
    """Marketplace Insights reports each listing's running total of units sold with the date and price
    of its last sale, and each fetch records the increase as one sale: the same ledger, kept from the fake."""

    reported: dict[tuple[int, int], int] = field(default_factory=dict)  # (product, listing) -> units
    units: dict[tuple[int, date], int] = field(default_factory=lambda: defaultdict(int))
    volume: dict[tuple[int, date], Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    def fetch(self, fake: FakeMarketplaces) -> dict[tuple[int, date], int]:
        """What a sales fetch of the fake as it is now adds: units per (product, day sold)."""
        new: dict[tuple[int, date], int] = defaultdict(int)
        for product_id, items in copy.deepcopy(fake.sold).items():
            for listing, sold in items.items():
                more = sold["units"] - self.reported.get((product_id, listing), 0)
                if more > 0:
                    self.reported[(product_id, listing)] = sold["units"]
                    key = (product_id, sold["at"].date())
                    self.units[key] += more
                    self.volume[key] += more * Decimal(sold["price"]) / 100
                    new[key] += more
        return new

    def volume_since(self, product_id: int, first: date) -> Decimal:
        return sum((v for (pid, day), v in self.volume.items() if pid == product_id and day >= first), Decimal(0))


# --- the deployment ------------------------------------------------------------------------------


@dataclass
class Product:
    id: int
    slug: str
    name: str
    tcgplayer_id: str | None
    ebay_query: str


class Mismatch(str):
    """What a poll saw instead of what it waits for: falsy for `Deployment.wait`, shown if it times out."""

    def __bool__(self) -> bool:
        return False


@dataclass
class Deployment:
    api: str
    db: psycopg.Connection[Any]
    redis: redis.Redis
    env: dict[str, str]
    fake: FakeMarketplaces
    products: list[Product]
    processes: Processes
    receiver: Receiver
    ledger: SalesLedger = field(default_factory=SalesLedger)

    def get(self, path: str, **kwargs: Any) -> Any:
        """The JSON of a 200 answer, else a Mismatch saying what came instead."""
        response = requests.get(self.api + path, timeout=10, **kwargs)
        if response.status_code != 200:
            return Mismatch(f"GET {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    def run_entries(self, *names: str) -> None:
        """`flask jobs run NAME` for each entry, as operators type it (at once, in their own shells)."""
        commands = [subprocess.Popen(_flask("jobs", "run", name), cwd=PROJECT_ROOT, env=self.env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for name in names]  # fmt: skip
        for name, command in zip(names, commands, strict=True):
            output, _ = command.communicate(timeout=120)
            assert command.returncode == 0, f"flask jobs run {name}: {output.decode()}"

    def wait(self, condition: Callable[[], Any], what: str, timeout: float = ROUND_TIMEOUT_S) -> Any:
        """Poll `condition` until it answers something truthy; on timeout, its last answer and the
        deployment's state explain why."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                last = condition()
            except requests.RequestException as exc:
                last = Mismatch(repr(exc))
            if last:
                return last
            if time.monotonic() > deadline or self.processes.dead():
                raise AssertionError(f"waiting for {what}: {last}\n{self.diagnostics()}")
            time.sleep(0.5)

    def diagnostics(self) -> str:
        runs = self.db.execute(
            "SELECT id, kind, status, rows_written, rows_rejected, error FROM ingest_runs ORDER BY id"
        ).fetchall()
        pending = self.db.execute("SELECT * FROM pipeline_requests ORDER BY id").fetchall()
        failed = FailedJobRegistry(queue=Queue("default", connection=self.redis)).get_job_ids()
        logs = "".join(f"\n--- {name}\n{self.processes.tail(name)}" for name in self.processes.running)
        return (
            f"dead processes: {self.processes.dead()}\ningest runs: {runs}\npipeline requests: {pending}\n"
            f"failed jobs: {failed}{logs}"
        )


def _catalog(path: Path) -> Path:
    """A few real boxes of data/catalog.csv (the fakes serve whatever TCGplayer ids they are given)."""
    with (PROJECT_ROOT / "data" / "catalog.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header, rows = reader.fieldnames or [], list(reader)
    chosen = [next(r for r in rows if r["game"] == game and r["tcgplayer_product_id"]) for game in GAMES]
    chosen.append(next(r for r in rows if r["game"] == UNMAPPED_GAME and not r["tcgplayer_product_id"]))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(chosen)
    return path


def _redis_url() -> str:
    parts = parse_url(TEST_REDIS_URL)
    return f"redis://{parts.get('host', '127.0.0.1')}:{parts.get('port', 6379)}/{REDIS_DB}"


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC)


@pytest.fixture
def deployment(scratch_db_url: str, tmp_path: Path) -> Iterator[Deployment]:
    # Every fetch of the rehearsal lands on one UTC day; it takes well under three minutes.
    left = _midnight(datetime.now(UTC).date() + timedelta(days=1)) - datetime.now(UTC)
    if left < timedelta(minutes=3):
        time.sleep(left.total_seconds() + 1)
    today = datetime.now(UTC).date()
    redis_url = _redis_url()
    # The deployment's settings, production's way: every process reads the same environment.
    settings = {
        "DATABASE_URL": scratch_db_url,
        "REDIS_URL": redis_url,
        "DATA_MODE": "live",
        "BOXPRO_ENV": "production",
        "JWT_SECRET_KEY": "rehearsal-" + uuid.uuid4().hex + uuid.uuid4().hex,
        "PIPELINE_DEBOUNCE_S": "1",
        "WEBHOOK_ALLOW_PRIVATE": "true",
        "RATE_LIMIT_DEFAULT": "100000/minute",  # the test polls; the limiter has tests of its own
        "MARKETPLACE_CONNECT_TIMEOUT_S": "5",
        "MARKETPLACE_READ_TIMEOUT_S": "10",  # a loaded machine's fake may be slow; it never hangs
        "LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        "PYTHONPATH": str(PROJECT_ROOT),
    }

    def environment(fake_url: str | None) -> dict[str, str]:
        """The marketplaces' keys (Insights on), fast retries, and the fakes' addresses once known."""
        marketplaces = market_env(fake_url or "", make_settings(database_url=scratch_db_url))
        if fake_url is None:
            marketplaces = {k: v for k, v in marketplaces.items() if not k.endswith("_BASE_URL")}
        return {**os.environ, **marketplaces, **settings}

    with contextlib.ExitStack() as cleanup:
        client = redis.Redis.from_url(redis_url)
        cleanup.callback(client.close)
        cleanup.callback(client.flushdb)
        client.flushdb()
        # The fakes serve the products `data init` creates, so their addresses come after it (it
        # calls no marketplace). Insights is on at its migration: eBay's marketplace row has a sold feed.
        _run(_flask("data", "init", "--catalog", str(_catalog(tmp_path / "catalog.csv"))), environment(None))
        db = cleanup.enter_context(psycopg.connect(scratch_db_url, autocommit=True, row_factory=dict_row))
        products = [
            Product(**row)
            for row in db.execute(
                """
                SELECT p.id, p.slug, p.name, t.external_id AS tcgplayer_id, e.search_query AS ebay_query
                FROM products p
                LEFT JOIN product_sources t ON t.product_id = p.id AND t.marketplace = 'tcgplayer'
                JOIN product_sources e ON e.product_id = p.id AND e.marketplace = 'ebay'
                ORDER BY p.id
                """
            )
        ]
        assert [p.tcgplayer_id is None for p in products] == [False] * len(GAMES) + [True]
        # The market opens two days before yesterday. Busy boxes: every hour of it sells something.
        fake = FakeMarketplaces(
            [
                FakeProduct(p.id, p.tcgplayer_id or UNMAPPED_TCGPLAYER_ID, p.ebay_query, p.name, 23_000 + i)
                for i, p in enumerate(products)
            ],
            start=_midnight(today - timedelta(days=2)),
        )
        fake.state.popularity[:] = 3.0
        env = environment(fake.start())
        cleanup.callback(fake.stop)
        receiver = Receiver()
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        cleanup.callback(receiver.server_close)
        cleanup.callback(receiver.shutdown)

        processes = Processes(tmp_path)
        cleanup.callback(processes.stop)  # first of all, whatever happened
        port = free_port()
        processes.start(
            "gunicorn",
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--workers", "2", "--bind", f"127.0.0.1:{port}",
             "wsgi:app"],
            env,
        )  # fmt: skip
        for i in (1, 2):
            processes.start(
                f"worker{i}",
                [str(BIN / "rq"), "worker", "--url", redis_url, "--worker-class", "jobs.worker.Worker",
                 "--with-scheduler", "--name", f"rehearsal-{i}-{uuid.uuid4().hex[:8]}", "default"],
                env,
            )  # fmt: skip
        processes.start("scheduler", _flask("jobs", "scheduler"), env)
        yield Deployment(f"http://127.0.0.1:{port}", db, client, env, fake, products, processes, receiver)


# --- the rehearsal -------------------------------------------------------------------------------


def test_a_live_deployment_runs_itself_on_the_marketplaces(deployment: Deployment) -> None:
    d = deployment
    today = datetime.now(UTC).date()
    _ready(d)

    # The weekly catalog look-up gives the box the catalog has no TCGplayer id for its TCGplayer source.
    unmapped = d.products[-1]
    d.run_entries("tcgplayer-map")
    mapped = d.wait(
        lambda: (
            d.db.execute(
                "SELECT external_id FROM product_sources WHERE product_id = %s AND marketplace = 'tcgplayer'",
                [unmapped.id],
            ).fetchone()
            or Mismatch(f"{unmapped.slug} has no TCGplayer source")
        ),
        "the catalog look-up",
    )
    assert mapped == {"external_id": UNMAPPED_TCGPLAYER_ID}

    # Round one: the market's first two days; the schedule's entries fetch them.
    _advance_to(d.fake, _midnight(today - timedelta(days=1)))
    first = _fetch_round(d, today)

    # A user wants to hear when the first box's floor falls 5 % below today's.
    watched = d.products[0]
    threshold = (first.floors[watched.id] * Decimal("0.95")).quantize(CENTS)
    user, secret = _alert(d, watched, threshold)

    # Round two: yesterday's trading happens, its sales reaching eBay's sold feed only now, late for
    # their day; prices move; a seller lists the watched box below the alert's threshold.
    _advance_to(d.fake, _midnight(today - timedelta(days=1)) + timedelta(hours=23))
    cheap = (min(threshold, fake_floor(d.fake, watched.id)) * Decimal("0.97")).quantize(CENTS)
    d.fake.add_noise(watched.id, "", int(cheap * 100), 900_000_001)  # a genuine listing, titled as the others
    second = _fetch_round(d, today)

    assert second.floors[watched.id] == cheap < first.floors[watched.id]
    assert second.markets != first.markets
    late = {(pid, day) for pid, day in second.new_sales if day < today}
    assert late, "the second round reported no sale of an earlier day"
    for pid, day in late:  # the day's metrics were computed in round one, and changed
        before, after = first.history[pid][day], second.history[pid][day]
        assert after["units_sold"] > before["units_sold"] and after["volume_usd"] > before["volume_usd"]

    sold = d.db.execute("SELECT marketplace, basis, sum(quantity) AS units FROM sales GROUP BY 1, 2").fetchall()
    assert sold == [{"marketplace": "ebay", "basis": "reported", "units": sum(d.ledger.units.values())}]

    _delivered(d, watched, user, secret, threshold)
    _fetched_twice(d)
    d.wait(  # every write's request for the pipeline was served by the jobs it queued
        lambda: not d.db.execute("SELECT 1 FROM pipeline_requests").fetchall() or Mismatch("requests pending"),
        "the pipeline requests to be served",
        timeout=30,
    )
    _nothing_simulated(d)
    assert not d.processes.dead(), d.diagnostics()
    assert FailedJobRegistry(queue=Queue("default", connection=d.redis)).count == 0, d.diagnostics()


def _ready(d: Deployment) -> None:
    """The API is ready and live, two workers are up, and the scheduler holds the live schedule."""

    def ready() -> Any:
        health = d.get("/health/ready")
        workers = len(Worker.all(connection=d.redis))
        scheduled = {job.id for job in Scheduler(connection=d.redis).get_jobs()}
        if not health or workers < 2 or "schedule-pipeline-catch-up" not in scheduled:
            return Mismatch(f"health {health!r}; {workers} workers; scheduled {sorted(scheduled)}")
        return health

    health = d.wait(ready, "the processes to be ready", timeout=60)
    assert health["checks"]["database"]["data_mode"] == "live"
    scheduled = {job.id for job in Scheduler(connection=d.redis).get_jobs()}
    assert {f"schedule-{entry}" for entry in (*ENTRIES, "tcgplayer-map")} <= scheduled
    assert "schedule-sim-tick" not in scheduled


def _advance_to(fake: FakeMarketplaces, until: datetime) -> None:
    while fake.state.time < until:
        fake.advance(min(1.0, (until - fake.state.time).total_seconds() / 3600))


@dataclass
class Round:
    floors: dict[int, Decimal]
    markets: dict[int, Decimal]
    new_sales: dict[tuple[int, date], int]
    history: dict[int, dict[date, dict[str, Any]]]  # product -> day -> the API's point


def _fetch_round(d: Deployment, today: date) -> Round:
    """Trigger the fetch entries as an operator would, then wait until the leaderboard, each product's
    history and the market index serve what the fakes report."""
    d.fake.last_updated = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)  # the mirror synced
    floors = {p.id: fake_floor(d.fake, p.id) for p in d.products}
    markets = {p.id: fake_market_price(d.fake, p.id) for p in d.products}
    listings = {p.id: len(d.fake.book(p.id)) for p in d.products}
    new_sales = d.ledger.fetch(d.fake)
    first_day = min(day for _, day in d.ledger.units)
    days = [first_day + timedelta(days=n) for n in range((today - first_day).days + 1)]
    d.run_entries(*ENTRIES)

    def leaderboard() -> Any:
        page = d.get("/api/v1/leaderboard")
        if not page or page["meta"]["day"] != today.isoformat():
            return Mismatch(f"leaderboard: {page if not page else page['meta']}")
        rows = {row["product"]["id"]: row["metrics"] for row in page["data"]}
        for p in d.products:
            m = rows.get(p.id, {})
            got = (_dec(m.get("floor_price")), _dec(m.get("market_price")), m.get("active_listings"),
                   _dec(m.get("volume_7d")))  # fmt: skip
            want = (floors[p.id], markets[p.id], listings[p.id], d.ledger.volume_since(p.id, today - timedelta(6)))
            if got != want:
                return Mismatch(f"leaderboard {p.slug} (floor, market, listings, volume_7d): {got} != {want}")
        return page

    def history() -> Any:
        found: dict[int, dict[date, dict[str, Any]]] = {}
        for p in d.products:
            params = {"metrics": "floor_price,market_price,units_sold,volume_usd", "from": first_day.isoformat()}
            body = d.get(f"/api/v1/products/{p.slug}/history", params=params)
            if not body:
                return body
            points = {date.fromisoformat(point["period"]): point for point in body["data"]}
            for day in days:
                point = points.get(day, {})
                got = (point.get("units_sold"), _dec(point.get("volume_usd")))
                want = (d.ledger.units.get((p.id, day), 0), d.ledger.volume.get((p.id, day), Decimal(0)))
                if got != want:
                    return Mismatch(f"history {p.slug} {day} (units_sold, volume_usd): {got} != {want}")
            now = (_dec(points[today]["floor_price"]), _dec(points[today]["market_price"]))
            if now != (floors[p.id], markets[p.id]):
                return Mismatch(f"history {p.slug} {today} (floor, market): {now} != {floors[p.id], markets[p.id]}")
            found[p.id] = points
        return found

    def index() -> Any:
        body = d.get("/api/v1/market/index")
        want = (today.isoformat(), len(d.products), sum(floors.values()))
        got = (body.get("day"), body.get("products_priced"), _dec(body.get("basket_value_usd"))) if body else body
        return body if got == want else Mismatch(f"market index (day, priced, basket): {got} != {want}")

    d.wait(leaderboard, "the leaderboard")
    found = d.wait(history, "the products' history")
    d.wait(index, "the market index")
    return Round(floors, markets, new_sales, found)


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(CENTS)


def _alert(d: Deployment, product: Product, threshold: Decimal) -> tuple[dict[str, str], str]:
    """A user registers, sets a webhook and a floor alert, through the API: their header and the
    webhook's secret."""
    registered = requests.post(
        d.api + "/api/v1/auth/register", json={"email": "ann@example.com", "password": PASSWORD}, timeout=10
    )
    assert registered.status_code == 202, registered.text
    signed_in = requests.post(
        d.api + "/api/v1/auth/login", json={"email": "ann@example.com", "password": PASSWORD}, timeout=10
    )
    user = {"Authorization": "Bearer " + signed_in.json()["access_token"]}
    hook = requests.put(d.api + "/api/v1/me/webhook", json={"url": d.receiver.url}, headers=user, timeout=10)
    assert hook.status_code == 200, hook.text
    alert = requests.post(
        d.api + "/api/v1/me/alerts",
        json={"product": product.slug, "kind": "floor_below", "price": str(threshold)},
        headers=user,
        timeout=10,
    )
    assert alert.status_code == 201, alert.text
    return user, str(hook.json()["secret"])


def _delivered(d: Deployment, product: Product, user: dict[str, str], secret: str, threshold: Decimal) -> None:
    """The alert fired once, on the second round's floor, and its webhook was delivered signed."""
    d.wait(lambda: d.receiver.received, "the webhook delivery", timeout=30)
    [(headers, body)] = d.receiver.received
    signed = f"{headers['X-BoxPro-Timestamp']}.".encode() + body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-BoxPro-Signature"], expected)
    payload = json.loads(body)
    assert payload["event"] == "alert.fired" and payload["notification"]["product"]["slug"] == product.slug
    inbox = d.get("/api/v1/me/notifications", headers=user)
    assert [n["kind"] for n in inbox["data"]] == ["floor_below"], inbox
    assert Decimal(str(inbox["data"][0]["details"]["floor_price"])) < threshold
    delivery = d.db.execute("SELECT status, attempts FROM webhook_deliveries").fetchall()
    assert delivery == [{"status": "delivered", "attempts": 1}]


def _fetched_twice(d: Deployment) -> None:
    """Each entry fetched in both rounds, every run succeeded and wrote, and the fakes' answers were all
    taken (nothing rejected: what the test expects is what the fakes serve)."""
    runs = d.db.execute("SELECT kind, status, rows_written, rows_rejected FROM ingest_runs ORDER BY id").fetchall()
    assert Counter(r["kind"] for r in runs) == Counter({**dict.fromkeys(FETCH_KINDS, 2), "map-tcgplayer-products": 1})
    assert all(r["status"] == "succeeded" and r["rows_written"] and not r["rows_rejected"] for r in runs), runs


def _nothing_simulated(d: Deployment) -> None:
    """Not one row of a simulated marketplace anywhere, rollups included; the real marketplaces' rows
    are there (so the check could fail); `/health/ready` says live."""
    simulated = {r["code"] for r in d.db.execute("SELECT code FROM marketplaces WHERE simulated")}
    assert simulated
    tables = {
        r["table_name"]
        for r in d.db.execute(
            "SELECT table_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND column_name = 'marketplace'"
        )
    }
    observed = {"listing_snapshots", "snapshots", "listing_events", "sales", "price_points", "raw_payloads",
                "ingest_runs", "product_sources", "marketplace_daily", "marketplace_hourly", "sales_daily",
                "sales_hourly", "price_daily"}  # fmt: skip
    assert observed <= tables, tables
    for table in sorted(tables):
        counts = {
            r["marketplace"]: r["n"]
            for r in d.db.execute(
                psycopg.sql.SQL("SELECT marketplace, count(*) AS n FROM {} GROUP BY 1").format(
                    psycopg.sql.Identifier(table)
                )
            )
        }
        assert not simulated & set(counts), (table, counts)
        assert table not in observed or counts, f"{table} is empty"
    assert d.db.execute("SELECT count(*) AS n FROM sim_state").fetchone() == {"n": 0}
    kinds = {r["kind"] for r in d.db.execute("SELECT DISTINCT kind FROM ingest_runs")}
    assert kinds and not {k for k in kinds if k.startswith("sim-")}, kinds
    ready = requests.get(d.api + "/health/ready", timeout=10)
    assert ready.status_code == 200 and ready.json()["checks"]["database"]["data_mode"] == "live", ready.text
    assert ready.headers.get("X-Data-Mode") == "live"
