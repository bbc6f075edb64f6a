from __future__ import annotations

import multiprocessing

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
