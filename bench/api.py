"""API benchmark (SPEC §10) on dataset M, with gunicorn serving and wrk loading on the same machine.

    make bench-api
    python -m bench.api --products 100 --days 30 --duration 5     # a quick look

Dataset M (1,000 products x 180 days, loaded through the ingest path and computed by the pipeline)
is built once in the `boxpro_bench_api` database and reused while it matches the asked size;
`--rebuild` starts over. Then, each scenario a fresh wrk run against gunicorn (same config and
worker count for every server):

- leaderboard top 50 at 8 connections, cached (warm) and uncached (RESPONSE_CACHE=false): p99;
- a product's 365-day daily history at 8 connections, products picked at random: p99;
- cached leaderboard at 32 connections: requests/s and errors;
- the ceiling: a bare Flask endpoint returning the same body from Redis, at 32 connections;
  the ratio is cached leaderboard throughput over the ceiling's.

The three servers run side by side and the scenarios are interleaved over several rounds; each
figure is the median of its rounds (this machine is shared and noisy). The API logs at WARNING, as
the ceiling logs nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import redis
import requests
from psycopg import sql
from psycopg.conninfo import make_conninfo

from bench import market as bench_market
from bench.ceiling import BODY_KEY
from bench.common import bench_database, describe, new_market
from jobs import pipeline
from service.core import migrations
from service.core.settings import PROJECT_ROOT

DATABASE = "boxpro_bench_api"
END = datetime(2026, 6, 1, tzinfo=UTC)
LEADERBOARD = "/api/v1/leaderboard?limit=50"


@dataclass
class WrkResult:
    p50_ms: float
    p99_ms: float
    rps: float
    requests: int
    errors: int


def _existing_dataset(url: str, products: int, days: int) -> bool:
    try:
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT count(DISTINCT product_id), count(DISTINCT day) FROM product_metrics_daily"
            ).fetchone()
    except psycopg.OperationalError:
        return False
    return row is not None and row[0] == products and row[1] >= days


def dataset(products: int, days: int, rebuild: bool) -> str:
    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:55432/boxpro")
    url = make_conninfo(base, dbname=DATABASE)
    if not rebuild and _existing_dataset(url, products, days):
        # The data stays; functions, views and queries follow the code.
        migrations.upgrade(url, PROJECT_ROOT / "migrations", PROJECT_ROOT / "sql", progress=lambda _: None)
        print(f"dataset: reusing {describe(url)} ({products} products x {days} days)")
        return url
    started = time.perf_counter()
    url = bench_database(DATABASE)
    start = END - timedelta(days=days)
    ids, market = new_market(url, products, start, seed=3)
    bench_market.load(url, market, END - timedelta(seconds=1), label="dataset M")
    print("dataset: listing-change inference ...", flush=True)
    bench_market.infer(url, ids)
    pipeline.run(
        url,
        start.date(),
        (END - timedelta(days=1)).date(),
        progress=lambda stage: print(f"dataset: {stage}", flush=True),
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"dataset: built {describe(url)} in {time.perf_counter() - started:.0f} s (not timed)")
    return url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: str, env: dict[str, str], workers: int):
    """gunicorn with the project's gunicorn.conf.py, on a free loopback port, until the block ends."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="boxpro-bench-") as prometheus_dir:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "--workers", str(workers),
             "--bind", f"127.0.0.1:{port}", app],
            cwd=PROJECT_ROOT,
            env={**os.environ, **env, "PROMETHEUS_MULTIPROC_DIR": prometheus_dir, "LOG_LEVEL": "WARNING"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    if requests.get(f"{base}/health", timeout=1).ok:
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.1)
            else:
                raise RuntimeError(f"{app} did not start")
            yield base
        finally:
            process.terminate()
            process.wait(timeout=30)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(url: str, connections: int, seconds: int, script: str | None = None, gzip: bool = False) -> WrkResult:
    """One wrk run (2 threads); its own latency percentiles, throughput and every kind of error."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if gzip:
        command += ["-H", "Accept-Encoding: gzip"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        if script:
            lua.write(script)
            lua.flush()
            command += ["-s", lua.name]
        out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.MULTILINE))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    errors += int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    return WrkResult(
        p50_ms=_ms(percentiles["50"]),
        p99_ms=_ms(percentiles["99"]),
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        requests=int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        errors=errors,
    )


def show(name: str, result: WrkResult) -> None:
    print(
        f"{name:<44} p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms  {result.rps:8.0f} req/s"
        f"  {result.requests} requests, {result.errors} errors"
    )


def history_script(product_ids: list[int]) -> str:
    """wrk picks a random product per request: 365 days of daily history, the default metrics."""
    ids = ",".join(map(str, product_ids))
    first, last = (END - timedelta(days=365)).date(), (END - timedelta(days=1)).date()
    return (
        f"local ids = {{{ids}}}\n"
        "math.randomseed(7)\n"
        "request = function()\n"
        "  local id = ids[math.random(#ids)]\n"
        f'  return wrk.format("GET", "/api/v1/products/" .. id .. "/history?interval=1d&from={first}&to={last}")\n'
        "end\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of every scenario")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("GUNICORN_WORKERS", "4")))
    parser.add_argument("--rebuild", action="store_true", help="rebuild dataset M even if present")
    parser.add_argument(
        "--gzip",
        action="store_true",
        help="cached scenarios and the ceiling ask for gzip (the ceiling then serves the same gzip bytes)",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: run scripts/install-system.sh (Debian package wrk)")

    url = dataset(args.products, args.days, args.rebuild)
    redis_url = re.sub(r"/\d+$", "/2", os.environ.get("REDIS_URL", "redis://127.0.0.1:56379/0"))
    cache = redis.Redis.from_url(redis_url)
    cache.flushdb()
    with psycopg.connect(url) as conn:
        product_ids = [r[0] for r in conn.execute(sql.SQL("SELECT id FROM products ORDER BY id"))]
    env = {
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "BOXPRO_ENV": "benchmark",
        "JWT_SECRET_KEY": "bench-" + "x" * 40,
        # The limiter runs (its cost is part of every request) but never refuses the load generator.
        "RATE_LIMIT_DEFAULT": "10000000/minute",
    }
    seconds, workers, rounds = args.duration, args.workers, args.rounds
    print(
        f"gunicorn: {workers} sync workers per server; wrk: 2 threads, {seconds} s per run, {rounds} rounds"
        f" (figures are medians over the rounds); {os.cpu_count()} cores"
    )
    script = history_script(product_ids)
    with (
        serve("wsgi:app", env, workers) as api,
        serve("wsgi:app", {**env, "RESPONSE_CACHE": "false"}, workers) as uncached_api,
        serve("bench.ceiling:app", env, workers) as ceiling_app,
    ):
        # The bytes the cached leaderboard serves (compressed when --gzip asks for it), for the ceiling.
        encoding = {"Accept-Encoding": "gzip" if args.gzip else "identity"}
        body = requests.get(api + LEADERBOARD, headers=encoding, timeout=10, stream=True)
        if not body.ok or body.headers.get("X-Cache") not in {"MISS", "HIT"}:
            sys.exit(f"the leaderboard did not answer as expected: {body.status_code} {body.text[:200]}")
        if requests.get(uncached_api + LEADERBOARD, timeout=10).headers.get("X-Cache") != "BYPASS":
            sys.exit("the uncached server answered from the cache")
        cache.set(BODY_KEY, body.raw.read())
        # Each scenario: (server, path, connections, wrk script). Warm-up first, then rounds that
        # interleave them, so a noisy stretch of the machine hits every scenario alike.
        # By default wrk asks for no encoding: the cached leaderboard and the ceiling both send the
        # same 58 kB of JSON, so the ratio compares like with like (and with earlier runs). --gzip
        # measures what browsers and the apps ask for: both then send the same stored gzip bytes.
        gz = args.gzip
        scenarios = {
            "leaderboard top 50, cached, 8 connections": (api, LEADERBOARD, 8, None, gz),
            "leaderboard top 50, cached, 32 connections": (api, LEADERBOARD, 32, None, gz),
            "ceiling: bare Flask + Redis GET, 32 connections": (ceiling_app, "/ceiling", 32, None, gz),
            "leaderboard top 50, uncached, 8 connections": (uncached_api, LEADERBOARD, 8, None, False),
            "product history, 365 days, 8 connections": (uncached_api, "/", 8, script, False),
        }
        for base, path, connections, lua, gzip in scenarios.values():
            wrk(base + path, connections, 2, lua, gzip)
        results: dict[str, list[WrkResult]] = {name: [] for name in scenarios}
        for _ in range(rounds):
            for name, (base, path, connections, lua, gzip) in scenarios.items():
                results[name].append(wrk(base + path, connections, seconds, lua, gzip))
    median = {name: _median(runs) for name, runs in results.items()}
    for name, result in median.items():
        show(name, result)
    cached, cached_32, ceiling, uncached, history = median.values()
    errors = sum(r.errors for runs in results.values() for r in runs)
    ratio = cached_32.rps / ceiling.rps
    targets = (  # issue 13's targets for this run
        ("cached leaderboard p99 <= 5 ms", cached.p99_ms <= 5),
        ("uncached leaderboard p99 <= 25 ms", uncached.p99_ms <= 25),
        ("365-day history p99 <= 15 ms", history.p99_ms <= 15),
        ("cached throughput >= 0.9 of the ceiling", ratio >= 0.9),
        ("no errors", errors == 0),
    )
    for target, met in targets:
        print(f"target {target}: {'met' if met else 'NOT MET'}")
    print(
        f"RESULT api lb_cached_p99_ms={cached.p99_ms:.2f} lb_uncached_p99_ms={uncached.p99_ms:.2f}"
        f" history_p99_ms={history.p99_ms:.2f} cached_rps={cached_32.rps:.0f} ceiling_rps={ceiling.rps:.0f}"
        f" ratio={ratio:.2f} errors={errors}"
    )


def _median(runs: list[WrkResult]) -> WrkResult:
    return WrkResult(
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        rps=statistics.median(r.rps for r in runs),
        requests=sum(r.requests for r in runs),
        errors=sum(r.errors for r in runs),
    )


if __name__ == "__main__":
    main()
