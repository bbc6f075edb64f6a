"""Cookie sessions for the web client (issue 14, item 3): the refresh token in an httpOnly, SameSite=Strict
cookie scoped to the refresh route (Secure over HTTPS), with flask-jwt-extended's double-submit CSRF
check; bearer sessions unchanged. With Flask's test client, then with a real gunicorn."""

from __future__ import annotations

from http.cookies import SimpleCookie

import jwt
import pytest
import requests

from tests.helpers import PASSWORD, TEST_DATABASE_URL, TEST_REDIS_URL, bearer, register, serve_api

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
COOKIE_LOGIN = {"email": "ann@example.com", "password": PASSWORD, "session": "cookie"}


def set_cookies(response) -> dict[str, SimpleCookie]:
    """Each Set-Cookie header of a response, parsed, by cookie name."""
    parsed = {}
    for header in response.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie()
        cookie.load(header)
        for name in cookie:
            parsed[name] = cookie
    return parsed


def attributes(cookie: SimpleCookie, name: str) -> dict[str, str | bool]:
    morsel = cookie[name]
    return {key: morsel[key] for key in ("path", "httponly", "secure", "samesite", "max-age") if morsel[key]}


def csrf(client) -> str:
    return client.get_cookie("csrf_refresh_token", path="/").value


def test_a_cookie_session_keeps_the_refresh_token_out_of_the_body(client, db):
    register(client)
    response = client.post(LOGIN, json=COOKIE_LOGIN)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in"}  # no refresh_token for script to read
    cookies = set_cookies(response)
    assert attributes(cookies["refresh_token_cookie"], "refresh_token_cookie") == {
        "path": "/api/v1/auth/refresh",
        "httponly": True,
        "samesite": "Strict",
        "max-age": str(30 * 24 * 3600),
    }
    assert attributes(cookies["csrf_refresh_token"], "csrf_refresh_token") == {
        "path": "/",
        "samesite": "Strict",
        "max-age": str(30 * 24 * 3600),
    }
    assert client.get("/api/v1/me", headers=bearer(body["access_token"])).status_code == 200


def test_refresh_with_the_cookie_and_the_csrf_header_rotates_the_cookie(client, db):
    register(client)
    client.post(LOGIN, json=COOKIE_LOGIN)
    spent = client.get_cookie("refresh_token_cookie", path=REFRESH).value
    response = client.post(REFRESH, headers={"X-CSRF-TOKEN": csrf(client)})
    assert response.status_code == 200, response.get_json()
    assert set(response.get_json()) == {"access_token", "token_type", "expires_in"}
    rotated = client.get_cookie("refresh_token_cookie", path=REFRESH).value
    assert rotated != spent
    assert client.get("/api/v1/me", headers=bearer(response.get_json()["access_token"])).status_code == 200
    # Again with the new cookie and its new CSRF value, and with the access token a client may send
    # on every call: the cookie is what counts.
    access = bearer(response.get_json()["access_token"])
    assert client.post(REFRESH, headers={"X-CSRF-TOKEN": csrf(client), **access}).status_code == 200

    # The spent cookie played again (a stolen copy): the session ends, for the newest tokens too.
    newest = client.post(REFRESH, headers={"X-CSRF-TOKEN": csrf(client)}).get_json()["access_token"]
    client.set_cookie("refresh_token_cookie", spent, path=REFRESH)
    spent_csrf = jwt.decode(spent, options={"verify_signature": False})["csrf"]  # readable by whoever holds it
    reused = client.post(REFRESH, headers={"X-CSRF-TOKEN": spent_csrf})
    assert (reused.status_code, reused.get_json()["code"]) == (401, "unauthorized")
    assert client.get("/api/v1/me", headers=bearer(newest)).status_code == 401


@pytest.mark.parametrize("header", [None, "", "not-the-csrf-value"])
def test_refresh_without_the_right_csrf_header_is_401_and_spends_nothing(client, db, header):
    register(client)
    client.post(LOGIN, json=COOKIE_LOGIN)
    headers = {} if header is None else {"X-CSRF-TOKEN": header}
    response = client.post(REFRESH, headers=headers)
    assert response.status_code == 401
    assert set(response.get_json()) >= {"status", "code", "message", "request_id"}
    assert response.get_json()["code"] == "unauthorized"
    assert "CSRF" in response.get_json()["message"]
    assert db.execute("SELECT count(*) AS n FROM refresh_tokens WHERE used_at IS NOT NULL").fetchone()["n"] == 0
    assert client.post(REFRESH, headers={"X-CSRF-TOKEN": csrf(client)}).status_code == 200  # the real one works


def test_logout_clears_both_cookies(client, db):
    register(client)
    access = client.post(LOGIN, json=COOKIE_LOGIN).get_json()["access_token"]
    response = client.post("/api/v1/auth/logout", headers=bearer(access))
    assert response.status_code == 204
    cookies = set_cookies(response)
    for name, path in (("refresh_token_cookie", REFRESH), ("csrf_refresh_token", "/")):
        assert cookies[name][name].value == "" and cookies[name][name]["path"] == path
        assert cookies[name][name]["max-age"] == "0"
    assert client.get_cookie("refresh_token_cookie", path=REFRESH) is None
    assert client.post(REFRESH, headers={"X-CSRF-TOKEN": "anything"}).status_code == 401


def test_cookies_are_secure_over_https(client, db):
    register(client)
    response = client.post(LOGIN, json=COOKIE_LOGIN, base_url="https://localhost")
    assert response.status_code == 200
    assert "refresh_token" not in response.get_json()
    cookies = set_cookies(response)
    assert cookies["refresh_token_cookie"]["refresh_token_cookie"]["secure"] is True
    assert cookies["csrf_refresh_token"]["csrf_refresh_token"]["secure"] is True


def test_bearer_sessions_are_unchanged(client, db):
    register(client)
    for body in ({"email": "ann@example.com", "password": PASSWORD}, {**COOKIE_LOGIN, "session": "bearer"}):
        response = client.post(LOGIN, json=body)
        assert "refresh_token" in response.get_json()
        assert response.headers.getlist("Set-Cookie") == []
    wrong = client.post(LOGIN, json={**COOKIE_LOGIN, "session": "jar"})
    assert wrong.status_code == 422 and "session" in wrong.get_json()["details"]["json"]


def test_the_cookie_flow_under_gunicorn(db, redis_db, tmp_path):
    env = {
        "DATABASE_URL": TEST_DATABASE_URL,
        "REDIS_URL": TEST_REDIS_URL,
        "JWT_SECRET_KEY": "cookie-test-" + "k" * 40,  # shared by both workers
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        "RATE_LIMIT_DEFAULT": "100000/minute",
    }
    with serve_api(env, workers=2) as base:
        browser = requests.Session()
        account = {"email": COOKIE_LOGIN["email"], "password": COOKIE_LOGIN["password"]}
        assert browser.post(f"{base}/api/v1/auth/register", json=account, timeout=10).status_code == 202
        assert browser.post(f"{base}{LOGIN}", json=COOKIE_LOGIN, timeout=10).status_code == 200
        assert {c.name: c.path for c in browser.cookies} == {
            "refresh_token_cookie": REFRESH,
            "csrf_refresh_token": "/",
        }
        # The browser sends the cookie only to the refresh route; script reads the CSRF cookie.
        missing = browser.post(f"{base}{REFRESH}", timeout=10)
        assert (missing.status_code, missing.json()["code"]) == (401, "unauthorized")
        wrong = browser.post(f"{base}{REFRESH}", headers={"X-CSRF-TOKEN": "forged"}, timeout=10)
        assert wrong.status_code == 401
        seen = set()
        for _ in range(4):  # across both workers
            token = browser.cookies.get("csrf_refresh_token")
            response = browser.post(f"{base}{REFRESH}", headers={"X-CSRF-TOKEN": token}, timeout=10)
            assert response.status_code == 200, response.text
            seen.add(browser.cookies.get("refresh_token_cookie", path=REFRESH))
            me = requests.get(f"{base}/api/v1/me", headers=bearer(response.json()["access_token"]), timeout=10)
            assert me.status_code == 200
        assert len(seen) == 4  # rotated every time

        # Behind a TLS-terminating proxy on a trusted address (gunicorn's forwarded_allow_ips).
        login = requests.post(f"{base}{LOGIN}", json=COOKIE_LOGIN, headers={"X-Forwarded-Proto": "https"}, timeout=10)
        assert login.status_code == 200
        assert all("Secure" in header for header in login.raw.headers.getlist("Set-Cookie"))

        access = login.json()["access_token"]
        out = browser.post(f"{base}/api/v1/auth/logout", headers=bearer(access), timeout=10)
        assert out.status_code == 204
