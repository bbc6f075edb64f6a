"""`make bench-soak`: the whole deployment under mixed traffic for five minutes, with one Redis restart
and one PostgreSQL restart in the middle.

It runs on a PostgreSQL cluster and a Redis of its own (under .var/soak, on free ports), so that it can
restart them without touching `make run`'s: `scripts/services.sh` starts them, `flask data init`
simulates the catalog's last weeks (demo mode), and `scripts/serve.sh` runs the supervised API, RQ
worker, rq-scheduler and dashboard as `make run` does. Eight clients then mix cached reads (leaderboard,
movers, market index, product pages), uncached reads (365-day history, sales, listings, search, the
portfolio) and signed-in writes (watchlist and holdings added and removed); every 30 s a sim-tick job
(the demo's fetch: it writes a market tick, then queues the pipeline) is enqueued as an operator would.

The last line:
    RESULT soak requests=… errors_5xx=… p99_ms=… recovery_s=… lost_jobs=… rss_growth_mb=…
errors_5xx counts 5xx answers and dropped connections outside the fault windows (a fault's start to 5 s
after the service is back); recovery_s is the longest time from a service being back to the last failed
request it caused; lost_jobs are enqueued jobs that neither finished nor failed with a recorded error;
rss_growth_mb is the largest resident-memory growth of one process from the end of the warm-up to the
end. Targets (issue 12): errors_5xx 0, recovery_s <= 5, lost_jobs 0, rss_growth_mb <= 50.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import psycopg
import redis
import requests
from rq.exceptions import NoSuchJobError
from rq.job import Job

from service.core.settings import PROJECT_ROOT

BIN = Path(sys.executable).parent
VAR_DIR = PROJECT_ROOT / ".var" / "soak"
FAULT_TAIL_S = 5.0  # a fault's window lasts until this long after the service is back (the target)
PASSWORD = "soak test correct horse battery"  # noqa: S105 - throwaway accounts of a throwaway database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def say(text: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


@dataclass
class Deployment:
    env: dict[str, str]
    base: str
    run_dir: Path

    def run(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args), cwd=PROJECT_ROOT, env=self.env, check=check, capture_output=True, text=True, timeout=timeout
        )

    def flask(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(str(BIN / "flask"), "--app", "service.app", *args, check=check)

    def processes(self) -> dict[int, str]:
        """pid → role of every process in the supervised sessions (api master and workers, ...)."""
        roles = {int(p.read_text()): p.stem for p in self.run_dir.glob("*.pid")}
        found = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if fields[0] != "Z" and int(fields[3]) in roles:
                    found[int(stat.parent.name)] = roles[int(fields[3])]
        return found


def rss_mb(pid: int) -> float | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


@contextlib.contextmanager
def deployment(seconds_of_history: int) -> Iterator[Deployment]:
    pg_port, redis_port, api_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "VAR_DIR": str(VAR_DIR),
        "PG_PORT": str(pg_port),
        "REDIS_PORT": str(redis_port),
        "PG_SHARED_BUFFERS": "512MB",
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{pg_port}/boxpro_soak",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "API_HOST": "127.0.0.1",
        "API_PORT": str(api_port),
        "DASHBOARD_PORT": str(free_port()),
        "GUNICORN_WORKERS": "2",
        "WORKER_NAME": f"soak-{uuid.uuid4().hex[:6]}",
        "SUPERVISE_DIR": str(VAR_DIR / "run"),
        "JWT_SECRET_KEY": "soak-" + uuid.uuid4().hex * 2,
        "RATE_LIMIT_DEFAULT": "1000000/minute",
        "RATE_LIMIT_AUTH": "1000/minute",
        "DATA_MODE": "demo",
        "LOG_LEVEL": "WARNING",
    }
    d = Deployment(env, f"http://127.0.0.1:{api_port}", VAR_DIR / "run")
    say(f"private PostgreSQL on {pg_port} and Redis on {redis_port} under {VAR_DIR}")
    d.run("scripts/services.sh", "start", "boxpro_soak")
    serve = None
    try:
        say(f"data init: the catalog and {seconds_of_history // 86400} days of simulated market")
        d.flask("data", "init", "--backfill-days", str(seconds_of_history // 86400))
        log = (VAR_DIR / "serve.log").open("ab")
        serve = subprocess.Popen(
            ["bash", "scripts/serve.sh"], cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not _ok(d.base + "/health"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start; see {VAR_DIR / 'serve.log'}")
            time.sleep(0.2)
        yield d
    finally:
        if serve is not None:
            os.killpg(serve.pid, 15)  # Ctrl-C's path: every supervised process stops
            serve.wait(timeout=60)
        d.run("scripts/services.sh", "stop", check=False)


def _ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


@dataclass
class Answer:
    at: float
    kind: str
    route: str  # the path with the product as {slug}
    status: int  # 0: no answer (connection refused or cut, timeout)
    ms: float


@dataclass
class Traffic:
    """Eight clients mixing cached reads, uncached reads and signed-in writes."""

    base: str
    slugs: list[str]
    tokens: list[str]
    answers: list[Answer] = field(default_factory=list)
    year_ago: str = (date.today() - timedelta(days=365)).isoformat()
    stop: threading.Event = field(default_factory=threading.Event)

    def requests_for(self, rng: random.Random) -> tuple[str, list[tuple[str, str, str, dict | None]]]:
        slug = rng.choice(self.slugs)
        roll = rng.random()
        if roll < 0.5:  # cached
            path = rng.choice(
                ["/api/v1/leaderboard?limit=50", "/api/v1/movers", "/api/v1/market/index", f"/api/v1/products/{slug}"]
            )
            return slug, [("cached", "GET", path, None)]
        if roll < 0.85:  # uncached
            path = rng.choice(
                [
                    f"/api/v1/products/{slug}/history?metrics=floor_price,volume_7d&from={self.year_ago}",
                    f"/api/v1/products/{slug}/sales",
                    f"/api/v1/products/{slug}/listings",
                    "/api/v1/products?q=box&limit=20",
                    "/api/v1/me/portfolio",
                ]
            )
            return slug, [("uncached", "GET", path, None)]
        return slug, [  # a signed-in write and its undo
            ("write", "POST", "/api/v1/me/watchlist", {"product": slug}),
            ("write", "DELETE", f"/api/v1/me/watchlist/{slug}", None),
            ("write", "POST", "/api/v1/me/portfolio", {"product": slug, "quantity": 1, "unit_cost": 99.5}),
        ]

    def client(self, number: int) -> None:
        rng = random.Random(number)
        session = requests.Session()
        token = self.tokens[number % len(self.tokens)]
        headers = {"Authorization": f"Bearer {token}"}
        while not self.stop.is_set():
            slug, plan = self.requests_for(rng)
            for kind, method, path, body in plan:
                started = time.monotonic()
                try:
                    response = session.request(method, self.base + path, json=body, headers=headers, timeout=15)
                    status = response.status_code
                    if method == "POST" and path.endswith("/portfolio") and status == 201:
                        holding = response.json()["id"]
                        session.delete(f"{self.base}/api/v1/me/portfolio/{holding}", headers=headers, timeout=15)
                except requests.RequestException:
                    status = 0
                route = f"{method} {path.replace(slug, '{slug}') if slug else path}"
                self.answers.append(Answer(started, kind, route, status, (time.monotonic() - started) * 1000))


@dataclass
class Fault:
    name: str
    started: float
    back: float


def restart_redis(d: Deployment, down_s: float) -> Fault:
    started = time.monotonic()
    client = redis.Redis.from_url(d.env["REDIS_URL"])
    with contextlib.suppress(redis.ConnectionError):
        client.shutdown()  # append-only file flushed first: queued jobs and the schedule survive
    time.sleep(down_s)
    d.run("scripts/services.sh", "start")  # starts what is not running: Redis
    return Fault("redis", started, time.monotonic())


def restart_postgres(d: Deployment) -> Fault:
    with psycopg.connect(d.env["DATABASE_URL"]) as conn:
        directory = conn.execute("SELECT current_setting('data_directory')").fetchone()[0]  # type: ignore[index]
    started = time.monotonic()
    pg_ctl = "/usr/lib/postgresql/15/bin/pg_ctl"
    log = str(Path(directory).parent / "postgres.log")  # the server's output must not hold a pipe of ours open
    restart = ["runuser", "-u", "postgres", "--", pg_ctl, "-D", directory, "-l", log, "-m", "fast", "-w", "restart"]
    subprocess.run(restart, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/", timeout=120)
    return Fault("postgres", started, time.monotonic())


def enqueue_tick(d: Deployment, jobs: list[str], refused: Counter[str]) -> None:
    done = d.flask("jobs", "run", "sim-tick", check=False)
    if done.returncode == 0:
        jobs.append(done.stdout.strip().rsplit(" ", 1)[-1])
    else:
        refused["sim-tick"] += 1  # Redis was down: not accepted, so not lost; the next one catches up


def job_outcomes(d: Deployment, jobs: list[str], wait_s: float) -> Counter[str]:
    client = redis.Redis.from_url(d.env["REDIS_URL"])
    deadline = time.monotonic() + wait_s
    while True:
        outcomes: Counter[str] = Counter()
        for job_id in jobs:
            try:
                outcomes[str(Job.fetch(job_id, connection=client).get_status())] += 1
            except NoSuchJobError:
                outcomes["vanished"] += 1
        if outcomes["queued"] + outcomes["started"] + outcomes["scheduled"] == 0 or time.monotonic() > deadline:
            return outcomes
        time.sleep(1)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=300, help="length of the traffic (default 300)")
    parser.add_argument("--history-days", type=int, default=30, help="simulated days before the soak")
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    warm_s, length = 30.0, float(args.seconds)

    with deployment(args.history_days * 86400) as d:
        slugs = [p["slug"] for p in requests.get(d.base + "/api/v1/products?limit=100", timeout=10).json()["data"]]
        tokens = []
        for i in range(4):
            body = {"email": f"soak{i}-{uuid.uuid4().hex[:6]}@example.com", "password": PASSWORD}
            tokens.append(requests.post(d.base + "/api/v1/auth/register", json=body, timeout=10).json()["tokens"])
        traffic = Traffic(d.base, slugs, [t["access_token"] for t in tokens])
        clients = [threading.Thread(target=traffic.client, args=(n,)) for n in range(args.clients)]
        say(f"{args.clients} clients for {length:.0f} s; Redis restart at 40 %, PostgreSQL restart at 70 %")
        started = time.monotonic()
        for thread in clients:
            thread.start()
        jobs: list[str] = []
        refused: Counter[str] = Counter()
        faults: list[Fault] = []
        rss_start: dict[int, tuple[str, float]] = {}
        next_tick, planned = started, {"redis": 0.4 * length, "postgres": 0.7 * length}
        try:
            while (elapsed := time.monotonic() - started) < length:
                if time.monotonic() >= next_tick:
                    enqueue_tick(d, jobs, refused)
                    next_tick += 30
                if not rss_start and elapsed >= warm_s:
                    rss_start = {pid: (role, rss) for pid, role in d.processes().items() if (rss := rss_mb(pid))}
                for name, at in list(planned.items()):
                    if elapsed >= at:
                        del planned[name]
                        say(f"restarting {name}")
                        faults.append(restart_redis(d, 3.0) if name == "redis" else restart_postgres(d))
                        say(f"{name} back after {faults[-1].back - faults[-1].started:.1f} s")
                say_progress(elapsed, length, len(traffic.answers))
                time.sleep(1)
            rss_end = {pid: rss for pid in d.processes() if (rss := rss_mb(pid))}
        finally:
            traffic.stop.set()
            for thread in clients:
                thread.join(timeout=30)
        say("traffic stopped; waiting for the enqueued jobs to end")
        outcomes = job_outcomes(d, jobs, wait_s=120)

    report(traffic.answers, faults, jobs, outcomes, refused, rss_start, rss_end)


def say_progress(elapsed: float, length: float, answered: int) -> None:
    if int(elapsed) % 15 == 0:
        say(f"{elapsed:.0f}/{length:.0f} s, {answered} answers")


def report(
    answers: list[Answer],
    faults: list[Fault],
    jobs: list[str],
    outcomes: Counter[str],
    refused: Counter[str],
    rss_start: dict[int, tuple[str, float]],
    rss_end: dict[int, float],
) -> None:
    def caused_by(f: Fault, a: Answer, tail: float) -> bool:
        """Was `a` in flight at some moment between the fault's start and `tail` s after it was back?"""
        return a.at <= f.back + tail and a.at + a.ms / 1000 >= f.started

    def in_window(a: Answer) -> bool:
        return any(caused_by(f, a, FAULT_TAIL_S) for f in faults)

    failed = [a for a in answers if a.status == 0 or a.status >= 500]
    outside = [a for a in failed if not in_window(a)]
    # From a service being back to the end of the last failed request it caused (within 30 s).
    recovery = [max([0.0, *(a.at + a.ms / 1000 - f.back for a in failed if caused_by(f, a, 30))]) for f in faults]
    growth = {pid: rss_end[pid] - rss for pid, (_, rss) in rss_start.items() if pid in rss_end}
    worst = max(growth, key=lambda pid: growth[pid], default=None)
    ok_ms = [a.ms for a in answers if 200 <= a.status < 400 and not in_window(a)]
    for (route, status), n in sorted(Counter((a.route, a.status) for a in answers).items()):
        print(f"{n:>7}  {status}  {route}")
    for a in outside[:10]:
        since = ", ".join(f"{a.at - f.back:+.1f} s from {f.name} back" for f in faults)
        print(f"failed outside the fault windows: {a.status} {a.route} ({since})")
    for f in faults:
        inside = Counter(a.status for a in failed if caused_by(f, a, FAULT_TAIL_S))
        print(f"fault {f.name}: down {f.back - f.started:.1f} s, failed answers in its window {dict(inside)}")
    for kind in ("cached", "uncached", "write"):
        ms = [a.ms for a in answers if a.kind == kind and 200 <= a.status < 400 and not in_window(a)]
        print(f"{kind}: {len(ms)} answers outside the fault windows, p50 {percentile(ms, 0.5):.1f} ms, "
              f"p99 {percentile(ms, 0.99):.1f} ms")  # fmt: skip
    refused_n = sum(refused.values())
    print(f"jobs: {len(jobs)} enqueued, outcomes {dict(outcomes)}, not accepted while Redis was down {refused_n}")
    for pid, (role, rss) in sorted(rss_start.items(), key=lambda item: item[1][0]):
        end = f"{rss_end[pid]:.0f} MB" if pid in rss_end else "gone"
        print(f"rss {role:<10} pid {pid:<7} {rss:.0f} MB -> {end}")
    lost = outcomes["vanished"] + outcomes["queued"] + outcomes["started"] + outcomes["scheduled"]
    print(
        f"RESULT soak requests={len(answers)} errors_5xx={len(outside)} p99_ms={percentile(ok_ms, 0.99):.1f} "
        f"recovery_s={max(recovery, default=0.0):.2f} lost_jobs={lost} failed_jobs={outcomes['failed']} "
        f"rss_growth_mb={growth[worst] if worst else 0.0:.1f}"
    )


if __name__ == "__main__":
    main()
