"""The cost of one cached read inside the process, without gunicorn, wrk or the network's noise.

    python -m bench.hit_path                                  # the cached leaderboard, 5 x 2,000 requests
    python -m bench.hit_path --path '/api/v1/movers' --gzip   # another cached read, asking for gzip
    python -m bench.hit_path --profile                        # and where the time goes (cProfile)
    python -m bench.hit_path --ceiling                        # bench/ceiling.py's endpoint, the same way

It answers the path once (a miss that fills the cache; the database needs metrics, e.g. after
`flask sim backfill` and `flask pipeline run`), then calls the WSGI application directly with a
prepared environ, as gunicorn's worker does, and reports microseconds per request (the median of the
batches, this machine being shared) and Python function calls per request (the same on every run).
The Redis round trip of each hit is part of the figure; the
ceiling of `make bench-api` (bench/ceiling.py) makes the same single GET.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import time
from collections.abc import Callable
from typing import Any

from werkzeug.test import EnvironBuilder

from service.app import create_app
from service.core.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", default="/api/v1/leaderboard?limit=50")
    parser.add_argument("--requests", type=int, default=2000, help="requests per batch")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--gzip", action="store_true", help="send Accept-Encoding: gzip")
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of one batch")
    parser.add_argument("--ceiling", action="store_true", help="measure bench/ceiling.py's bare endpoint instead")
    parser.add_argument(
        "--calls", action=argparse.BooleanOptionalAction, default=True, help="count function calls (a profiled batch)"
    )
    args = parser.parse_args()

    # The limiter runs (its cost is part of every request) but never refuses the loop.
    settings = Settings.from_env({**os.environ, "RATE_LIMIT_DEFAULT": "100000000/minute", "LOG_LEVEL": "WARNING"})
    app = create_app(settings)
    headers = [("Accept-Encoding", "gzip")] if args.gzip else []
    if args.ceiling:
        from bench import ceiling

        body = app.test_client().get(args.path, headers=headers)
        ceiling.client.set(ceiling.BODY_KEY, body.get_data())
        app.extensions["boxpro.db"].close()
        app, args.path = ceiling.app, "/ceiling"
    path, _, query = args.path.partition("?")
    environ = EnvironBuilder(path=path, query_string=query, headers=headers).get_environ()
    statuses: list[str] = []

    def start_response(status: str, _headers: list[tuple[str, str]], _exc: Any = None) -> Callable[[bytes], object]:
        statuses.append(status)
        return lambda _data: None

    def one() -> None:
        body = app(dict(environ), start_response)
        for _ in body:
            pass
        getattr(body, "close", lambda: None)()

    one()
    if not statuses[-1].startswith("200"):
        raise SystemExit(f"{args.path} answered {statuses[-1]}: it needs metrics in {settings.database_url}")
    one()
    cache = app.test_client().get(args.path, headers=headers).headers.get("X-Cache")
    if cache != "HIT" and not args.ceiling:
        raise SystemExit(f"{args.path} is not answered from the cache (X-Cache: {cache})")

    wall, cpu = [], []
    for _ in range(args.batches):
        started, started_cpu = time.perf_counter(), time.process_time()
        for _ in range(args.requests):
            one()
        wall.append((time.perf_counter() - started) / args.requests * 1e6)
        cpu.append((time.process_time() - started_cpu) / args.requests * 1e6)
    print(
        f"{args.path} ({'the ceiling' if args.ceiling else 'cached'}{', gzip' if args.gzip else ''}):"
        f" {statistics.median(cpu):.1f} us of CPU and {statistics.median(wall):.1f} us of wall time per request"
        f" (medians of {args.batches} x {args.requests}; CPU per batch {', '.join(f'{u:.0f}' for u in cpu)})"
    )
    if args.calls:
        # Python function calls per request: deterministic, so comparable across runs on a busy machine.
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            one()
        profiler.disable()
        stats = pstats.Stats(profiler)
        print(f"  {stats.total_calls / args.requests:.0f} Python function calls per request")  # type: ignore[attr-defined]
        if args.profile:
            stats.sort_stats("tottime").print_stats(30)
    if not args.ceiling:
        app.extensions["boxpro.db"].close()


if __name__ == "__main__":
    main()
