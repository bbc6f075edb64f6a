"""Accounts and tokens: registration, login, rotation with reuse detection, logout, expiry, tampering."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_jwt_extended import create_access_token

from service.app import create_app
from tests.helpers import PASSWORD, bearer, clear_of_window_edges, make_settings, new_account, register


def test_register_then_sign_in_and_me(client, db):
    created = register(client, "Ann@Example.com")
    assert created.status_code == 202
    assert set(created.get_json()) == {"message"}  # no tokens: the address may have had an account
    stored = db.execute("SELECT email, role, password_hash FROM users").fetchone()
    assert (stored["email"], stored["role"]) == ("ann@example.com", "user")
    assert stored["password_hash"].startswith("$argon2id$")
    login = client.post("/api/v1/auth/login", json={"email": "ANN@example.com", "password": PASSWORD})
    assert login.status_code == 200
    assert login.get_json()["expires_in"] == 900
    me = client.get("/api/v1/me", headers=bearer(login.get_json()["access_token"])).get_json()
    assert me["email"] == "ann@example.com" and me["role"] == "user"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "a@b.co", "password": "short"}, "password"),
        ({"email": "a@b.co", "password": "aaaaaaaaaaaa"}, "password"),
        ({"email": "a@b.co"}, "password"),
        ({"email": "a@b.co", "password": PASSWORD, "role": "admin"}, "role"),
    ],
)
def test_registration_rejects_bad_input_and_creates_nothing(client, db, payload, field):
    response = client.post("/api/v1/auth/register", json=payload)
    assert response.status_code == 422
    assert field in response.get_json()["details"]["json"]
    assert db.execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 0


def test_a_wrong_password_is_401_and_says_no_more(client, db):
    register(client)
    wrong = client.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": "wrong password!"})
    assert (wrong.status_code, wrong.get_json()["code"]) == (401, "unauthorized")
    nobody = client.post("/api/v1/auth/login", json={"email": "bob@example.com", "password": PASSWORD})
    assert nobody.get_json()["message"] == wrong.get_json()["message"]  # no hint which one was wrong


def test_refresh_tokens_rotate_and_a_reused_one_ends_the_session(client, db):
    tokens = new_account(client)
    first = client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"]))
    assert first.status_code == 200
    rotated = first.get_json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    reused = client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"]))
    assert reused.status_code == 401
    # The reuse revoked the whole family, including the newest refresh token.
    assert client.post("/api/v1/auth/refresh", headers=bearer(rotated["refresh_token"])).status_code == 401
    # An access token is no refresh token, and the other way round.
    assert client.post("/api/v1/auth/refresh", headers=bearer(rotated["access_token"])).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(rotated["refresh_token"])).status_code == 401


def test_logout_revokes_the_access_token_and_the_session(client, db):
    tokens = new_account(client)
    assert client.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"])).status_code == 204
    revoked = client.get("/api/v1/me", headers=bearer(tokens["access_token"]))
    assert (revoked.status_code, revoked.get_json()["message"]) == (401, "The token has been revoked.")
    assert client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])).status_code == 401


def test_missing_expired_and_tampered_tokens_are_401(client, app, db):
    tokens = new_account(client)
    missing = client.get("/api/v1/me")
    assert (missing.status_code, missing.headers["WWW-Authenticate"]) == (401, "Bearer")
    with app.app_context():
        expired = create_access_token(
            identity="1", expires_delta=timedelta(seconds=-1), additional_claims={"role": "user", "family": "x"}
        )
    assert client.get("/api/v1/me", headers=bearer(expired)).get_json()["message"] == "The token has expired."
    header, payload, signature = tokens["access_token"].split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
    assert client.get("/api/v1/me", headers=bearer(tampered)).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer not.a.jwt"}).status_code == 401


def test_changing_the_password_revokes_sessions(client, db):
    tokens = new_account(client)
    headers = bearer(tokens["access_token"])
    wrong = client.post(
        "/api/v1/me/password",
        headers=headers,
        json={"current_password": "nope nope nope", "new_password": "another good one"},
    )
    assert wrong.status_code == 403
    weak = client.post(
        "/api/v1/me/password", headers=headers, json={"current_password": PASSWORD, "new_password": "short"}
    )
    assert weak.status_code == 422
    ok = client.post(
        "/api/v1/me/password", headers=headers, json={"current_password": PASSWORD, "new_password": "another good one"}
    )
    assert ok.status_code == 204
    assert client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])).status_code == 401
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    again = client.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": "another good one"})
    assert again.status_code == 200


def test_login_is_rate_limited_harder(db, redis_db):
    """Logins spend RATE_LIMIT_AUTH, not the default budget. An hour's window here: eleven password
    checks take seconds on a loaded machine, and a minute's window could roll over among them."""
    app = create_app(make_settings(rate_limit_auth="10/hour"))
    client = app.test_client()
    clear_of_window_edges(3600, margin=60)
    statuses = [
        client.post("/api/v1/auth/login", json={"email": "x@example.com", "password": "wrong wrong!"}).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    assert client.get("/api/v1/games").status_code == 200  # the default budget is untouched
    app.extensions["boxpro.db"].close()


def test_the_openapi_document_declares_bearer_auth(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, method in (
        ("/api/v1/me", "get"),
        ("/api/v1/me/watchlist", "post"),
        ("/api/v1/me/portfolio", "get"),
        ("/api/v1/admin/ingest-runs", "get"),
    ):
        operation = spec["paths"][path][method]
        assert operation["security"] == [{"bearerAuth": []}], path
        assert "401" in operation["responses"], path
    assert "403" in spec["paths"]["/api/v1/admin/jobs"]["post"]["responses"]
    assert "security" not in spec["paths"]["/api/v1/leaderboard"]["get"]


def test_the_first_admin_comes_from_the_cli(runner, client, db):
    result = runner.invoke(args=["users", "create-admin", "Root@Example.com"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert db.execute("SELECT email, role FROM users").fetchone() == {"email": "root@example.com", "role": "admin"}
    login = client.post("/api/v1/auth/login", json={"email": "root@example.com", "password": PASSWORD})
    assert client.get("/api/v1/me", headers=bearer(login.get_json()["access_token"])).get_json()["role"] == "admin"
    register(client, "ann@example.com")
    promoted = runner.invoke(
        args=["users", "create-admin", "ann@example.com", "--password", "whatever the weather 123"]
    )
    assert "now an admin" in promoted.output
    weak = runner.invoke(args=["users", "create-admin", "bob@example.com", "--password", "short"])
    assert weak.exit_code == 2
    assert "at least 10 characters" in weak.output
    bad = runner.invoke(args=["users", "create-admin", "not-an-email", "--password", PASSWORD])
    assert bad.exit_code == 2
    assert db.execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 2
