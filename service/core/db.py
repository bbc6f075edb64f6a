"""The database: one psycopg connection pool per process, opened lazily.

Lazy opening matters under gunicorn: the master imports the app and forks workers; a pool opened
before the fork would share sockets and background threads across processes. Each process that
touches the pool gets its own, keyed by its pid.
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
        self._connect_kwargs: dict[str, Any] = {
            "row_factory": dict_row,
            # Custom plans always: the API's queries take optional filters (`%(x)s IS NULL OR ...`) that a
            # generic plan of a prepared statement cannot simplify away, nor prune hypertable chunks for.
            # No parallel workers: starting them costs more than these small reads take.
            "options": f"-c statement_timeout={statement_timeout_ms} -c plan_cache_mode=force_custom_plan"
            " -c max_parallel_workers_per_gather=0",
            "connect_timeout": connect_timeout_s,
            "application_name": "boxpro",
        }
        self._pool: ConnectionPool[psycopg.Connection[Row]] | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    @property
    def pool(self) -> ConnectionPool[psycopg.Connection[Row]]:
        pid = os.getpid()
        if self._pool is None or self._pid != pid:
            with self._lock:
                if self._pool is None or self._pid != pid:
                    # A pool inherited from a parent process is abandoned, not closed: closing it
                    # here would tear down the parent's connections.
                    self._pool = ConnectionPool(
                        self.url,
                        min_size=self._min_size,
                        max_size=self._max_size,
                        kwargs=self._connect_kwargs,
                        # Survive a database restart: a dead connection is replaced on checkout.
                        check=check_connection,
                        open=False,
                        name=f"boxpro-{pid}",
                        # Waiting for a connection: a database that is down answers 503 this soon.
                        timeout=self._pool_timeout_s,
                    )
                    self._pool.open(wait=False)
                    self._pid = pid
        return self._pool

    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection[Row]]:
        """A pooled connection; its transaction commits on success and rolls back on error."""
        with self.pool.connection(timeout=timeout) as conn:
            yield conn

    @contextmanager
    def reading(self) -> Iterator[psycopg.Connection[Row]]:
        """A pooled connection in autocommit for a block of reads, each statement its own snapshot.
        A read in a transaction costs three round trips (BEGIN, the query, COMMIT); here, one."""
        with self.pool.connection() as conn:
            conn.autocommit = True
            try:
                yield conn
            finally:
                if not conn.closed:
                    conn.autocommit = False  # the pool's next borrower gets a transaction, as ever

    def fetch_all(self, name: str, params: Params = None) -> list[Row]:
        """The rows of one named statement (a single statement commits alone: reads and writes alike)."""
        with self.reading() as conn:
            return conn.execute(query(name), params).fetchall()

    def fetch_one(self, name: str, params: Params = None) -> Row | None:
        with self.reading() as conn:
            return conn.execute(query(name), params).fetchone()

    def close(self) -> None:
        if self._pool is not None and self._pid == os.getpid():
            self._pool.close()
        self._pool = None
