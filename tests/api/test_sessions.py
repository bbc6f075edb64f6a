"""Sign-out is durable and session-wide (issue 12, items 2 and 3), each case failing before the fix:
logout survives a Redis restart; ending a session ends every access token of it, however many refreshes
it went through; a reused refresh token and a password change end sessions at once; while Redis is
unreachable the database answers; and when nothing was revoked, a request asks Redis, not the database."""

from __future__ import annotations

from service.api.auth import sessions
from tests.helpers import PASSWORD, bearer, register


def sign_in(client, email: str = "ann@example.com") -> dict[str, str]:
    return client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).get_json()


def refreshed(client, tokens: dict[str, str]) -> dict[str, str]:
    response = client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"]))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def me(client, tokens: dict[str, str]) -> int:
    return client.get("/api/v1/me", headers=bearer(tokens["access_token"])).status_code


def test_logout_survives_a_redis_restart(client, db, redis_db):
    register(client)
    first = sign_in(client)
    assert client.post("/api/v1/auth/logout", headers=bearer(first["access_token"])).status_code == 204
    assert me(client, first) == 401
    redis_db.flushall()  # what a restart of a Redis without persistence leaves
    assert me(client, first) == 401
    assert me(client, sign_in(client)) == 200  # a new session is fine


def test_logout_ends_every_access_token_of_the_session(client, db):
    register(client)
    a1 = sign_in(client)
    a2 = refreshed(client, a1)
    a3 = refreshed(client, a2)
    other = sign_in(client)  # another device: another session
    assert client.post("/api/v1/auth/logout", headers=bearer(a2["access_token"])).status_code == 204
    assert [me(client, t) for t in (a1, a2, a3)] == [401, 401, 401]
    assert client.post("/api/v1/auth/refresh", headers=bearer(a3["refresh_token"])).status_code == 401
    assert me(client, other) == 200


def test_a_reused_refresh_token_ends_the_access_tokens_already_issued(client, db):
    register(client)
    a1 = sign_in(client)
    a2 = refreshed(client, a1)
    stolen = client.post("/api/v1/auth/refresh", headers=bearer(a1["refresh_token"]))  # spent already
    assert stolen.status_code == 401
    assert me(client, a1) == 401 and me(client, a2) == 401


def test_a_password_change_ends_every_session_of_the_account_at_once(client, db):
    register(client)
    laptop, phone = sign_in(client), sign_in(client)
    change = {"current_password": PASSWORD, "new_password": "a brand new passphrase"}
    assert client.post("/api/v1/me/password", json=change, headers=bearer(laptop["access_token"])).status_code == 204
    assert me(client, phone) == 401 and me(client, laptop) == 401
    register(client, "bob@example.com")
    assert me(client, sign_in(client, "bob@example.com")) == 200  # other accounts are untouched


def test_while_redis_is_unreachable_the_database_answers_and_sign_out_holds(client, db, redis_down_app):
    register(client)
    live, ended = sign_in(client), sign_in(client)
    assert client.post("/api/v1/auth/logout", headers=bearer(ended["access_token"])).status_code == 204
    down = redis_down_app.test_client()
    assert me(down, live) == 200  # signed-in users keep working
    assert me(down, ended) == 401


def test_a_check_with_nothing_revoked_asks_redis_once_and_never_the_database(client, app, db, monkeypatch):
    register(client)
    tokens = sign_in(client)
    assert me(client, tokens) == 200  # the ended-sessions marker is loaded now
    asked: list[str] = []
    database = app.extensions["boxpro.db"]
    for name in ("fetch_one", "fetch_all"):
        real = getattr(database, name)
        monkeypatch.setattr(
            database, name, lambda query, *a, _real=real, **k: asked.append(query) or _real(query, *a, **k)
        )
    with app.test_request_context():
        assert sessions.is_ended("00000000-0000-0000-0000-000000000000") is False
    assert asked == []
    client.get("/api/v1/me", headers=bearer(tokens["access_token"]))
    assert "auth/session_revoked" not in asked and "auth/sessions_revoked_since" not in asked
