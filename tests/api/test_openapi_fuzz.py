"""Schemathesis against /openapi.json: every documented operation, with generated valid and invalid
input, signed in as an admin, over a simulated market. No 5xx, and every response matches its
documented status, content type and schema. Bounded by SCHEMATHESIS_MAX_EXAMPLES (default 12)."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import redis
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from jobs import pipeline
from jobs.sim import driver
from service.app import create_app
from service.core import accounts
from tests.helpers import TEST_REDIS_URL, empty_data_tables, insert_products

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "12"))


@pytest.fixture(scope="module")
def fuzzed_app(settings_, migrated):  # type: ignore[no-untyped-def]
    """An app over a 20-day simulated market, with rate limits out of the way (429 is tested elsewhere)."""
    with psycopg.connect(settings_.database_url, autocommit=True, row_factory=psycopg.rows.dict_row) as conn:
        empty_data_tables(conn)
        insert_products(conn)
        driver.advance(settings_.database_url, days=20, now=NOW, kind="sim-backfill")
        pipeline.run(settings_.database_url, (NOW - timedelta(days=20)).date(), NOW.date())
        conn.execute(
            "INSERT INTO users (email, password_hash, role) VALUES ('fuzz@example.com', %s, 'admin')",
            [accounts.hash_password("fuzz-password-123")],
        )
    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    app = create_app(replace(settings_, rate_limit_default="100000/minute", rate_limit_auth="100000/minute"))
    app.config["TESTING"] = True
    yield app
    app.extensions["boxpro.db"].close()


@pytest.fixture(scope="module")
def settings_(settings):  # type: ignore[no-untyped-def]
    return settings


@pytest.fixture(scope="module")
def api_schema(fuzzed_app):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_wsgi("/openapi.json", fuzzed_app)


@pytest.fixture(scope="module")
def admin_headers(fuzzed_app):  # type: ignore[no-untyped-def]
    client = fuzzed_app.test_client()
    tokens = client.post("/api/v1/auth/login", json={"email": "fuzz@example.com", "password": "fuzz-password-123"})
    return {"Authorization": f"Bearer {tokens.get_json()['access_token']}"}


CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_every_operation_keeps_its_contract(api_schema, admin_headers):  # type: ignore[no-untyped-def]
    # schemathesis' pytest plugin does not load under pytest 9, so each operation's cases are drawn
    # with hypothesis here: valid input, then invalid input, bounded per operation.
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 50
    for operation in operations:
        for mode in schemathesis.GenerationMode:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case) -> None:  # type: ignore[no-untyped-def]
                # Signing out would revoke the token every other operation uses; tests cover it.
                if case.operation.path != "/api/v1/auth/logout":
                    case.headers = {**(case.headers or {}), **admin_headers}
                # Its WSGI transport sends requests' default Accept-Encoding (gzip) but never decodes
                # the body: ask for identity (gzip is checked in test_representation.py).
                case.headers = {**(case.headers or {}), "Accept-Encoding": "identity"}
                case.call_and_validate(checks=CHECKS)

            try:
                check()
            except Unsatisfiable:  # no invalid input exists for an operation without parameters
                continue
            except Exception as exc:
                failures.append(f"{operation.label} [{mode.value}]: {str(exc)[:2000]}")
    assert not failures, "\n\n".join(failures)
