"""Regressions of issue 12's findings, each failing before its fix: auth limits that a token lifted,
database outages answered 500, and a deeply nested JSON body answered 500."""

from __future__ import annotations

import pytest
import requests
from psycopg.conninfo import make_conninfo

from service.app import create_app
from tests.helpers import (
    BODIES,
    TEST_DATABASE_URL,
    TEST_REDIS_URL,
    bearer,
    clear_of_window_edges,
    fill,
    make_settings,
    new_account,
    serve_api,
)


def test_a_valid_token_does_not_lift_the_per_address_login_and_register_limit(client, db):
    clear_of_window_edges()
    token = new_account(client, "own@example.com")["access_token"]  # 2 of 10: register, then login
    wrong = {"email": "victim@example.com", "password": "wrong guess!"}
    statuses = [client.post("/api/v1/auth/login", json=wrong).status_code for _ in range(8)]
    assert statuses == [401] * 8
    assert client.post("/api/v1/auth/login", json=wrong).status_code == 429
    with_token = client.post("/api/v1/auth/login", json=wrong, headers=bearer(token))
    assert with_token.status_code == 429
    signup = {"email": "new@example.com", "password": "correct horse battery"}
    assert client.post("/api/v1/auth/register", json=signup, headers=bearer(token)).status_code == 429
    # Ordinary reads of the signed-in account are not counted against it.
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200


@pytest.fixture
def unreachable_database_app(redis_db):
    """The API with its database down: nothing listens where it connects."""
    url = make_conninfo(TEST_DATABASE_URL, host="127.0.0.1", port="1")
    app = create_app(make_settings(database_url=url, db_pool_timeout_s=1.0, db_connect_timeout_s=1))
    yield app
    app.extensions["boxpro.db"].close()


@pytest.mark.parametrize("path", ["/api/v1/games", "/api/v1/leaderboard", "/api/v1/products/op-01-box"])
def test_a_database_outage_is_a_503_with_retry_after_in_the_error_shape(unreachable_database_app, path):
    response = unreachable_database_app.test_client().get(path)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    body = response.get_json()
    assert (body["status"], body["code"]) == (503, "unavailable") and "retry" in body["message"]


def test_a_restarted_database_answers_503_not_500_while_the_pool_recovers(app, db):
    client = app.test_client()
    assert client.get("/api/v1/games").status_code == 200
    # The server ends every connection of the API's pool (what a restart or a failover does).
    db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'boxpro'")
    statuses = {client.get("/api/v1/games").status_code for _ in range(5)}
    assert statuses <= {200, 503}
    assert client.get("/api/v1/games").status_code == 200  # and it recovered by itself


@pytest.mark.parametrize("depth", [100_000, 1_000_000])
def test_deeply_nested_json_is_a_400(client, admin, products, depth):
    body = "[" * depth
    for path in ("/api/v1/auth/login", "/api/v1/me/watchlist", "/api/v1/admin/import/sales?marketplace=manual"):
        response = client.post(path, data=body, content_type="application/json", headers=admin)
        assert response.status_code == 400, (path, response.status_code)
        assert response.get_json()["code"] == "bad_request"


@pytest.mark.parametrize("password", ["password12", "qwertyuiop12", "letmein12345", "ann@example.com1"])
def test_common_and_guessable_passwords_are_refused(client, db, password):
    response = client.post("/api/v1/auth/register", json={"email": "ann@example.com", "password": password})
    assert response.status_code == 422, response.get_json()
    assert "too easy to guess" in str(response.get_json()["details"])
    assert db.execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 0


def test_every_response_carries_a_content_security_policy(client, db):
    for path in ("/api/v1/games", "/api/v1/products/nope", "/health", "/openapi.json"):
        csp = client.get(path).headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    docs = client.get("/docs")
    assert docs.status_code == 200
    csp = docs.headers["Content-Security-Policy"]
    assert "script-src 'self' 'sha256-" in csp and "https:" not in csp  # Swagger UI comes from the service


def test_requests_gunicorn_refuses_itself_are_answered_in_the_json_error_shape(db):
    """A request line over 4 KiB or an oversized header never reaches the app: gunicorn answers it.
    That answer is JSON in the error shape, with the security headers, not gunicorn's HTML page."""
    with serve_api({"DATABASE_URL": TEST_DATABASE_URL, "REDIS_URL": TEST_REDIS_URL}, workers=1) as base:
        long_line = requests.get(f"{base}/api/v1/products?q={'x' * 9000}", timeout=10)
        big_header = requests.get(f"{base}/api/v1/games", headers={"X-Filler": "y" * 9000}, timeout=10)
    for response, status, code in ((long_line, 414, "uri_too_long"), (big_header, 431, None)):
        assert response.status_code == status, response.text[:200]
        assert response.headers["Content-Type"] == "application/json"
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        body = response.json()
        assert body["status"] == status and body["message"]
        assert code is None or body["code"] == code


def test_no_route_answers_500_while_redis_is_down(admin, redis_down_app, products):
    """Issue 19, defect 3's class: every route of the app (read from its URL map), called by an admin
    with a valid body while Redis is unreachable, answers a documented status (ContractClient), never 500."""
    client = redis_down_app.test_client()
    statuses = {}
    for rule in sorted(redis_down_app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if rule.rule == "/api/v1/auth/logout" or rule.rule.startswith("/static"):
                continue  # logout would end the admin's session for the routes after it
            path = fill(rule.rule, {"product": "op-01-box"})
            response = client.open(path, method=method, json=BODIES.get((method, rule.rule)), headers=admin)
            statuses[(method, rule.rule)] = response.status_code
    assert 500 not in statuses.values(), [route for route, status in statuses.items() if status == 500]
