"""Fixtures against the real TimescaleDB and Redis.

By default the suite uses the private servers `make test` starts; point it elsewhere with
TEST_DATABASE_URL and TEST_REDIS_URL (for example at the docker-compose stack, whose TimescaleDB
carries the Timescale License, to exercise the continuous-aggregate branch).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
import redis
from psycopg.conninfo import make_conninfo

from jobs.marketplaces import registry
from service.app import create_app
from service.core import migrations
from service.core.settings import PROJECT_ROOT, Settings

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:55432/boxpro_test")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:56379/15")
# Tables that describe the schema or hold reference data seeded by migrations; kept between tests.
KEPT_TABLES = {"schema_migrations", "schema_repeatables", "rollup_definitions", "marketplaces", "settings"}


def clear_of_window_edges(seconds: int = 60, margin: float = 3.0) -> None:
    """Rate limits count in fixed windows (service/api/ratelimit.py). A test that spends a budget waits,
    if need be, until the current window has at least `margin` seconds left, so it never straddles two."""
    left = seconds - time.time() % seconds
    if left < margin:
        time.sleep(left + 0.05)


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": TEST_DATABASE_URL,
        "redis_url": TEST_REDIS_URL,
        "environment": "test",
        "jwt_secret_key": "test-secret-" + "x" * 40,
        "health_timeout_s": 1.0,
        "db_connect_timeout_s": 1,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


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
    yield app
    app.extensions["boxpro.db"].close()


@pytest.fixture
def client(app, redis_db):  # type: ignore[no-untyped-def]
    """A test client; the test Redis database (the API's cache) starts empty."""
    return app.test_client()


@pytest.fixture
def runner(app):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


def empty_data_tables(conn: psycopg.Connection) -> None:
    """Truncate every table but the schema's own and the reference data seeded by migrations."""
    tables = [
        row["tablename"]
        for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        if row["tablename"] not in KEPT_TABLES
    ]
    if tables:
        conn.execute(
            psycopg.sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                psycopg.sql.SQL(", ").join(map(psycopg.sql.Identifier, tables))
            )
        )


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
def scratch_db_url() -> Iterator[str]:
    """A brand-new empty database on the test server, dropped afterwards."""
    name = f"boxpro_scratch_{uuid.uuid4().hex[:10]}"
    admin = make_conninfo(TEST_DATABASE_URL, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
    try:
        yield make_conninfo(TEST_DATABASE_URL, dbname=name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(name))
            )


@pytest.fixture
def project_root():  # type: ignore[no-untyped-def]
    return PROJECT_ROOT


def insert_products(conn: psycopg.Connection) -> list[int]:
    conn.execute("INSERT INTO games (code, name) VALUES ('one-piece', 'One Piece'), ('pokemon', 'Pokémon')")
    rows = conn.execute(
        """
        INSERT INTO products (slug, game, set_code, name, product_type, release_date, packs_per_box)
        VALUES ('op-01-box', 'one-piece', 'OP-01', 'OP-01 Box', 'booster_box', '2022-12-02', 24),
               ('op-02-box', 'one-piece', 'OP-02', 'OP-02 Box', 'booster_box', '2023-03-10', 24),
               ('sv-151-box', 'pokemon', 'MEW', '151 Box', 'booster_box', NULL, 36)
        RETURNING id
        """
    ).fetchall()
    return [row["id"] for row in rows]


@pytest.fixture
def products(db: psycopg.Connection) -> list[int]:
    """Three catalog products (ids), in an otherwise empty database."""
    return insert_products(db)
