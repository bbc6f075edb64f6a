"""Fixtures against the real TimescaleDB and Redis.

By default the suite uses the private servers `make test` starts; point it elsewhere with
TEST_DATABASE_URL and TEST_REDIS_URL (for example at the docker-compose stack, whose TimescaleDB
carries the Timescale License, to exercise the continuous-aggregate branch).
"""

from __future__ import annotations

import os
import select
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import psycopg
import pytest
import redis
from psycopg.conninfo import make_conninfo
from rq import Retry

from jobs import pipeline
from jobs.marketplaces import registry
from jobs.sim import driver
from service.app import create_app
from service.core import migrations, outbox
from service.core.settings import PROJECT_ROOT, Settings
from tests.fakes.smtp import Mailbox, smtp_env, smtp_server
from tests.helpers import (
    MARKET_NOW,
    TEST_DATABASE_URL,
    TEST_REDIS_URL,
    ContractClient,
    bearer,
    empty_data_tables,
    insert_products,
    make_settings,
    new_account,
)

if os.environ.get("FAKETIME") and os.environ.get("FAKETIME_DONT_FAKE_MONOTONIC") == "1":
    # A clock run (scripts/clock.sh): libfaketime fails time.sleep with EINVAL (it shifts the absolute
    # monotonic deadline of clock_nanosleep by the fake offset); select's relative timeout is untouched.
    def _sleep(seconds: float) -> None:
        select.select([], [], [], seconds)

    time.sleep = _sleep

# Job functions and subprocesses read their settings from the environment: a write's pipeline job is
# queued at once (not 30 s later), where a burst worker finds it.
os.environ.setdefault("PIPELINE_DEBOUNCE_S", "0")


@pytest.fixture(scope="session")
def settings() -> Settings:
    return make_settings()


@pytest.fixture(scope="session")
def migrated(settings: Settings) -> None:
    """The test database migrated as `flask db upgrade` does it, the adapters' marketplaces included."""
    migrations.upgrade(
        settings.database_url, settings.migrations_dir, settings.sql_dir, marketplaces=registry.marketplaces()
    )


@pytest.fixture(scope="session")
def app(settings: Settings, migrated: None):  # type: ignore[no-untyped-def]
    app = create_app(settings)
    app.config["TESTING"] = True
    app.test_client_class = ContractClient  # every answer a test sees keeps the documented contract
    yield app
    app.extensions["boxpro.db"].close()


@pytest.fixture
def client(app, redis_db):  # type: ignore[no-untyped-def]
    """A test client; the test Redis database (the API's cache) starts empty."""
    return app.test_client()


@pytest.fixture
def runner(app):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def db(migrated: None, settings: Settings) -> Iterator[psycopg.Connection]:
    """An autocommit connection to a test database whose data tables were just emptied."""
    with psycopg.connect(settings.database_url, autocommit=True, row_factory=psycopg.rows.dict_row) as conn:
        empty_data_tables(conn)
        yield conn


@pytest.fixture
def redis_db() -> Iterator[redis.Redis]:
    """The dedicated test Redis database, flushed before each test."""
    client = redis.Redis.from_url(TEST_REDIS_URL)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def redis_down_app(migrated, redis_db):  # type: ignore[no-untyped-def]
    """The API with its Redis down: nothing listens where it connects. Same secret, same database."""
    app = create_app(make_settings(redis_url="redis://127.0.0.1:1/0"))
    app.test_client_class = ContractClient
    yield app
    app.extensions["boxpro.db"].close()


@pytest.fixture
def scratch_databases() -> Iterator[Callable[[], str]]:
    """Makes brand-new empty databases on the test server, as many as the test asks for; all dropped afterwards."""
    admin = make_conninfo(TEST_DATABASE_URL, dbname="postgres")
    names: list[str] = []

    def make() -> str:
        name = f"boxpro_scratch_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
        names.append(name)
        return make_conninfo(TEST_DATABASE_URL, dbname=name)

    yield make
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names:
            conn.execute(
                psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(name))
            )


@pytest.fixture
def scratch_db_url(scratch_databases: Callable[[], str]) -> str:
    """A brand-new empty database on the test server, dropped afterwards."""
    return scratch_databases()


@pytest.fixture
def project_root():  # type: ignore[no-untyped-def]
    return PROJECT_ROOT


@pytest.fixture
def products(db: psycopg.Connection) -> list[int]:
    """Three catalog products (ids), in an otherwise empty database."""
    return insert_products(db)


@pytest.fixture
def market(db, products, settings):
    """The three products with 20 days of simulated market up to MARKET_NOW, and their metrics."""
    driver.advance(settings.database_url, days=20, now=MARKET_NOW, kind="sim-backfill")
    pipeline.run(settings.database_url, (MARKET_NOW - timedelta(days=20)).date(), MARKET_NOW.date())
    return products


@pytest.fixture
def admin(client, db):
    """An admin's bearer header (root@example.com)."""
    tokens = new_account(client, "root@example.com")
    db.execute("UPDATE users SET role = 'admin' WHERE email = 'root@example.com'")
    return bearer(tokens["access_token"])


@pytest.fixture
def user(client, db):
    """An ordinary user's bearer header (ann@example.com)."""
    return bearer(new_account(client, "ann@example.com")["access_token"])


@pytest.fixture
def smtp(monkeypatch) -> Iterator[Mailbox]:
    """A real SMTP server on loopback, and the environment that makes job functions (run by a burst
    worker in this process) send through it, against the test database and Redis. Retries follow at
    once, so a burst worker plays every attempt."""
    with smtp_server() as (port, box):
        for name, value in {**smtp_env(port), "DATABASE_URL": TEST_DATABASE_URL, "REDIS_URL": TEST_REDIS_URL}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(outbox, "RETRY", Retry(max=2))
        yield box
