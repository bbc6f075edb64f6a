"""The database: psycopg connection pools per process, opened lazily.

Lazy opening matters under gunicorn: the master imports the app and forks workers; a pool opened
before the fork would share sockets and background threads across processes. Each process that
touches a pool gets its own, keyed by its pid.
"""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from service.core.sql import query

Params = Sequence[Any] | Mapping[str, Any] | None
Row = dict[str, Any]


def check_connection(conn: psycopg.Connection[Any]) -> None:
    """The pool's check on checkout, without a round trip for a connection that is fine.

    A connection the server ended (a restart, a terminated backend, a crash) has something to read
    on its socket: the server's last message or the end of the stream. Only then is the connection
    asked to prove itself with an empty query (psycopg_pool's own check), which raises for a dead
    one, and the pool replaces it. An idle connection with nothing to read is used as is: pinging it
    would cost every checkout a round trip, two per request on most reads.
    """
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the connection is closed")
    poll = select.poll()  # not select.select: it fails for descriptors above 1023
    poll.register(conn.fileno(), select.POLLIN)
    if poll.poll(0):
        ConnectionPool.check_connection(conn)


class Database:
    """Two pools, opened on first use, that differ in how their statements are planned:

    - custom (the default): each execution is planned for its values. Many queries take optional
      filters (`%(x)s IS NULL OR ...`) that only a plan for the actual values can simplify away,
      and prune hypertable chunks for.
    - prepared: each statement is prepared on a connection's first use of it, and planned once,
      generically. For statements composed of only what a request uses (the leaderboard composes
      just the filters given): planning is about 1 ms of the uncached leaderboard's 2.5 ms in the
      database. Chunks are then chosen at run time (ChunkAppend's runtime exclusion), and
      PostgreSQL replans when chunks are added or dropped (tests/core/test_db.py).

    A process that never asks for prepared statements (the workers, the command line) never opens
    that pool. Each pool has up to DB_POOL_MAX_SIZE connections.
    """

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 8,
        statement_timeout_ms: int = 15_000,
        connect_timeout_s: int = 5,
        pool_timeout_s: float = 5.0,
    ) -> None:
        self.url = url
        self._min_size = min_size
        self._max_size = max_size
        self._pool_timeout_s = pool_timeout_s
        # No parallel workers: starting them costs more than these small reads take.
        options = f"-c statement_timeout={statement_timeout_ms} -c max_parallel_workers_per_gather=0"
        common: dict[str, Any] = {"row_factory": dict_row, "connect_timeout": connect_timeout_s,
                                  "application_name": "boxpro"}  # fmt: skip
        self._connect_kwargs: dict[str, dict[str, Any]] = {
            "custom": {**common, "options": f"{options} -c plan_cache_mode=force_custom_plan"},
            "prepared": {**common, "options": f"{options} -c plan_cache_mode=force_generic_plan",
                         "prepare_threshold": 0},
        }  # fmt: skip
        self._pools: dict[str, ConnectionPool[psycopg.Connection[Row]]] = {}
        self._pid: int | None = None
        self._lock = threading.Lock()

    @property
    def pool(self) -> ConnectionPool[psycopg.Connection[Row]]:
        return self._pool("custom")

    def _pool(self, plans: str) -> ConnectionPool[psycopg.Connection[Row]]:
        pid = os.getpid()
        pool = self._pools.get(plans) if self._pid == pid else None
        if pool is None:
            with self._lock:
                if self._pid != pid:
                    # Pools inherited from a parent process are abandoned, not closed: closing them
                    # here would tear down the parent's connections.
                    self._pools, self._pid = {}, pid
                pool = self._pools.get(plans)
                if pool is None:
                    pool = self._pools[plans] = ConnectionPool(
                        self.url,
                        min_size=self._min_size,
                        max_size=self._max_size,
                        kwargs=self._connect_kwargs[plans],
                        # Survive a database restart: a dead connection is replaced on checkout.
                        check=check_connection,
                        open=False,
                        name=f"boxpro-{plans}-{pid}",
                        # Waiting for a connection: a database that is down answers 503 this soon.
                        timeout=self._pool_timeout_s,
                    )
                    pool.open(wait=False)
        return pool

    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection[Row]]:
        """A pooled connection; its transaction commits on success and rolls back on error."""
        with self.pool.connection(timeout=timeout) as conn:
            yield conn

    @contextmanager
    def reading(self, *, prepared: bool = False) -> Iterator[psycopg.Connection[Row]]:
        """A pooled connection in autocommit for a block of reads, each statement its own snapshot.
        A read in a transaction costs three round trips (BEGIN, the query, COMMIT); here, one.
        `prepared`: from the pool of prepared statements with generic plans (see the class)."""
        with self._pool("prepared" if prepared else "custom").connection() as conn:
            conn.autocommit = True
            try:
                yield conn
            finally:
                if not conn.closed:
                    conn.autocommit = False  # the pool's next borrower gets a transaction, as ever

    def fetch_all(self, name: str, params: Params = None, *, prepared: bool = False) -> list[Row]:
        """The rows of one named statement (a single statement commits alone: reads and writes alike)."""
        with self.reading(prepared=prepared) as conn:
            return conn.execute(query(name), params).fetchall()

    def fetch_one(self, name: str, params: Params = None, *, prepared: bool = False) -> Row | None:
        with self.reading(prepared=prepared) as conn:
            return conn.execute(query(name), params).fetchone()

    def close(self) -> None:
        if self._pid == os.getpid():
            for pool in self._pools.values():
                pool.close()
        self._pools = {}
