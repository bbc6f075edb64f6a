"""Shared set-up for the benchmarks: a fresh, migrated database with a synthetic catalog."""

from __future__ import annotations

import os
import resource
import sys
from datetime import datetime

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from jobs.sim.market import MarketState
from service.core import migrations
from service.core.settings import PROJECT_ROOT


def bench_database(name: str = "boxpro_bench") -> str:
    """Drop and re-create `name` on the project's server, migrate it, and return its URL."""
    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:55432/boxpro")
    admin = make_conninfo(base, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_conninfo(base, dbname=name)
    migrations.upgrade(url, PROJECT_ROOT / "migrations", PROJECT_ROOT / "sql", progress=lambda _: None)
    return url


def create_products(url: str, count: int) -> list[int]:
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO games (code, name) VALUES ('bench', 'Benchmark game') ON CONFLICT DO NOTHING")
        rows = conn.execute(
            """
            INSERT INTO products (slug, game, name, product_type, release_date, packs_per_box)
            SELECT 'bench-box-' || i, 'bench', 'Bench Box ' || i, 'booster_box', DATE '2024-01-01' + (i %% 700), 24
            FROM generate_series(1, %s) AS i
            RETURNING id
            """,
            [count],
        ).fetchall()
    return [r[0] for r in rows]


def new_market(url: str, products: int, start: datetime, seed: int) -> tuple[npt.NDArray[np.int64], MarketState]:
    """A synthetic catalog of `products` in the database, and a simulated market for it from `start`."""
    ids = np.array(create_products(url, products), dtype=np.int64)
    market = MarketState.new(seed=seed, time=start)
    market.add_products(ids, np.random.default_rng(seed).uniform(60, 400, len(ids)), start)
    return ids, market


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def progress(done: int, total: int, label: str) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def server_settings(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        names = ("shared_buffers", "synchronous_commit", "fsync", "max_wal_size")
        return {n: conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(n))).fetchone()[0] for n in names}  # type: ignore[index]


def describe(url: str) -> str:
    info = conninfo_to_dict(url)
    return f"{info.get('host')}:{info.get('port')}/{info.get('dbname')}"
