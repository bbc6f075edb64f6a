from __future__ import annotations

import multiprocessing
from datetime import date

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from service.core.db import Database
from service.core.sql import query
from tests.helpers import TEST_DATABASE_URL


@pytest.fixture
def database():
    db = Database(TEST_DATABASE_URL, statement_timeout_ms=300)
    yield db
    db.close()


def test_rows_are_dicts_and_transactions_commit(database, db):
    with database.connection() as conn:
        conn.execute("CREATE TEMP TABLE t (x int)")  # temp: vanishes with the session
        assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}


def test_a_failed_block_rolls_back(database, db):
    db.execute("CREATE TABLE IF NOT EXISTS rollback_probe (x int)")
    try:
        with pytest.raises(RuntimeError), database.connection() as conn:
            conn.execute("INSERT INTO rollback_probe VALUES (1)")
            raise RuntimeError("boom")
        assert db.execute("SELECT count(*) AS n FROM rollback_probe").fetchone()["n"] == 0
    finally:
        db.execute("DROP TABLE rollback_probe")


def test_the_statement_timeout_applies(database):
    with pytest.raises(psycopg.errors.QueryCanceled), database.connection() as conn:
        conn.execute("SELECT pg_sleep(2)")


def _child_query(db: Database, out: multiprocessing.Queue) -> None:
    with db.connection() as conn:
        out.put(conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"])


def test_a_forked_process_gets_its_own_pool(database, db):
    # As under gunicorn: the parent used the pool, then forked.
    with database.connection() as conn:
        parent_pid = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]
    ctx = multiprocessing.get_context("fork")
    out: multiprocessing.Queue = ctx.Queue()
    child = ctx.Process(target=_child_query, args=(database, out))
    child.start()
    child_backend = out.get(timeout=20)
    child.join(20)
    assert child.exitcode == 0
    assert child_backend != parent_pid
    # The child neither used nor closed the parent's connection, and the parent's pool still works.
    assert db.execute("SELECT count(*) AS n FROM pg_stat_activity WHERE pid = %s", [parent_pid]).fetchone()["n"] == 1
    with database.connection() as conn:
        assert conn.execute("SELECT 1 AS ok").fetchone() == {"ok": 1}


def test_a_dead_connection_is_replaced_after_a_database_side_disconnect(database, db):
    with database.connection() as conn:
        victim = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]
    db.execute("SELECT pg_terminate_backend(%s, 5000)", [victim])  # returns once the backend is gone
    with database.connection() as conn:
        assert conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"] != victim


def test_a_healthy_connection_is_not_pinged_on_checkout(database, monkeypatch):
    """The pool's check costs a round trip only for a connection with something unasked-for to read
    (the server's goodbye): a checkout of a healthy, idle one goes straight to the query."""
    pings: list[object] = []
    ping = ConnectionPool.check_connection
    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(lambda conn: (pings.append(conn), ping(conn))))
    for _ in range(5):
        assert database.fetch_one("health/database") is not None
    assert pings == []


def test_named_queries_are_loaded_from_files_and_names_are_checked():
    assert "pg_extension" in query("health/database")
    with pytest.raises(ValueError, match="bad query name"):
        query("../../etc/passwd")


def test_prepared_statements_are_planned_once_and_see_chunks_come_and_go(database, db):
    """The prepared pool's statements keep one generic plan; PostgreSQL must replan them when a
    hypertable gains or loses chunks, or a new day's rows would be missed (or a dropped chunk read)."""
    db.execute("DROP TABLE IF EXISTS prepared_probe")
    db.execute("CREATE TABLE prepared_probe (day date NOT NULL, x int)")
    db.execute("SELECT create_hypertable('prepared_probe', 'day', chunk_time_interval => interval '1 day')")
    try:
        count = "SELECT count(*) AS n FROM prepared_probe WHERE day BETWEEN %(from)s AND %(to)s"
        window = {"from": date(2026, 1, 1), "to": date(2026, 1, 31)}

        def counted() -> int:
            with database.reading(prepared=True) as conn:
                n = conn.execute(count, window).fetchone()["n"]
                plans = conn.execute(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
                    ["%prepared_probe%"],
                ).fetchone()
            assert plans is not None and plans["custom_plans"] == 0 and plans["generic_plans"] > 0
            return int(n)

        db.execute("INSERT INTO prepared_probe VALUES ('2026-01-02', 1)")
        assert [counted() for _ in range(3)] == [1, 1, 1]
        db.execute("INSERT INTO prepared_probe VALUES ('2026-01-05', 2)")  # a new chunk
        assert counted() == 2
        db.execute("SELECT drop_chunks('prepared_probe', older_than => date '2026-01-04')")
        assert counted() == 1
    finally:
        db.execute("DROP TABLE prepared_probe")


def test_a_reading_block_is_autocommit_and_hands_the_connection_back_transactional():
    database = Database(TEST_DATABASE_URL, max_size=1)  # one connection: the next borrower gets the same
    try:
        with database.reading() as conn:
            assert conn.autocommit
            reader = conn
        with database.connection() as conn:
            assert conn is reader and not conn.autocommit  # transactional again
    finally:
        database.close()
