"""The authorisation matrix, over every user and admin route the app has (read from its URL map, so a
new route is covered the day it is added):

- every other read under /api/v1 is listed as public, and answers without a token;
- no token, an expired, a tampered or a revoked token: 401 everywhere;
- an ordinary user: 403 on every admin route;
- one user can never read or change another's watchlist, alerts, notifications, webhook or portfolio.
And none of the refused requests changes anything.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask_jwt_extended import create_access_token

from tests.helpers import (
    BODIES,
    CATALOG_TABLES,
    MARKET_NOW,
    OWNED_TABLES,
    bearer,
    fill,
    metrics,
    new_account,
    queued_jobs,
    snapshot,
)

# Signed-in routes: /me, /admin, and the account's own e-mail actions under /auth.
PRIVATE = re.compile(r"^/api/v1/(me|admin)(/|$)|^/api/v1/auth/verify-email/resend$")
# Every other /auth route is for callers without an access token (or, refresh, with a refresh token);
# logout needs one but is checked in test_auth.py (calling it here would end the test's session).
PUBLIC_AUTH = {
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/verify-email"),
    ("POST", "/api/v1/auth/password-reset"),
    ("POST", "/api/v1/auth/password-reset/confirm"),
}


# The public reads (rate-limited per address): a route under /api/v1 is private (above) or listed here,
# so whether a new one needs a token is decided, not forgotten.
PUBLIC_READS = {
    "/api/v1/games",
    "/api/v1/leaderboard",
    "/api/v1/market/index",
    "/api/v1/market/index/history",
    "/api/v1/movers",
    "/api/v1/price-check",
    "/api/v1/products",
    "/api/v1/products/<string:product>",
    "/api/v1/products/<string:product>/history",
    "/api/v1/products/<string:product>/image",
    "/api/v1/products/<string:product>/listings",
    "/api/v1/products/<string:product>/rank-history",
    "/api/v1/products/<string:product>/sales",
    "/api/v1/products/<string:product>/sparkline.svg",
}


def private_routes(app) -> list[tuple[str, str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if PRIVATE.match(rule.rule):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                routes.append((method, rule.rule, rule.endpoint))
    return sorted(routes)


@pytest.fixture
def ann(client, db, products):
    """Ann, with one of everything a user owns."""
    headers = bearer(new_account(client, "ann@example.com")["access_token"])
    client.post("/api/v1/me/watchlist", json={"product": "op-01-box"}, headers=headers)
    alert = client.post(
        "/api/v1/me/alerts", json={"product": "op-01-box", "kind": "floor_below", "price": 100}, headers=headers
    ).get_json()
    holding = client.post(
        "/api/v1/me/portfolio", json={"product": "op-01-box", "quantity": 2, "unit_cost": 90}, headers=headers
    ).get_json()
    db.execute("INSERT INTO webhooks (user_id, url, secret) SELECT id, 'https://ann.example.com/hook', 's' FROM users")
    metrics(db, products[0], MARKET_NOW.date(), floor_price=50)
    db.execute("SELECT evaluate_metric_alerts(%s)", [MARKET_NOW.date()])
    notification = db.execute("SELECT id FROM notifications").fetchone()["id"]
    source = db.execute(
        "INSERT INTO product_sources (product_id, marketplace) VALUES (%s, 'tcgplayer') RETURNING id", [products[0]]
    ).fetchone()["id"]
    ids = {
        "alert_id": alert["id"],
        "holding_id": holding["id"],
        "notification_id": notification,
        "product": "op-01-box",
        "source_id": source,
        "code": "one-piece",
        "job_id": "some-job",
    }
    return headers, ids


def call(client, method: str, rule: str, ids: dict[str, object], headers: dict[str, str] | None):
    return client.open(fill(rule, ids), method=method, json=BODIES.get((method, rule)), headers=headers or {})


def test_the_matrix_covers_every_private_route(app):
    routes = private_routes(app)
    assert len(routes) >= 35
    assert {m for m, _, _ in routes} == {"GET", "POST", "PATCH", "PUT", "DELETE"}


def test_every_auth_route_is_private_or_known_public(app):
    """A new /auth route must be put in the matrix (PRIVATE) or declared public here."""
    auth_routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/auth/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    private = {(m, r) for m, r, _ in private_routes(app)}
    assert auth_routes - private == PUBLIC_AUTH
    assert ("POST", "/api/v1/auth/verify-email/resend") in private


def test_every_read_is_private_or_listed_public(app):
    reads = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and "GET" in rule.methods and not PRIVATE.match(rule.rule)
    }
    assert reads == PUBLIC_READS


def test_public_reads_answer_without_a_token(client, ann):
    _, ids = ann
    for rule in sorted(PUBLIC_READS):
        response = client.get(fill(rule, ids))
        # 404 (no market index yet, no image stored) and 422 (price-check wants a price) are answers too.
        assert response.status_code not in (401, 403) and response.status_code < 500, rule


def test_no_valid_token_no_access(app, client, ann, db):
    _, ids = ann
    with app.app_context():
        expired = create_access_token(
            identity="1", expires_delta=timedelta(seconds=-1), additional_claims={"role": "admin", "family": "x"}
        )
    header, payload, signature = ann[0]["Authorization"].removeprefix("Bearer ").split(".")
    forged_admin = f"{header}.{payload}.{signature[::-1]}"
    before = snapshot(db, OWNED_TABLES + CATALOG_TABLES)
    for method, rule, _ in private_routes(app):
        for headers in (None, bearer(expired), bearer(forged_admin), {"Authorization": "Basic YW5uOng="}):
            response = call(client, method, rule, ids, headers)
            assert response.status_code == 401, (method, rule, headers, response.get_json())
            assert response.get_json()["code"] == "unauthorized"
    assert snapshot(db, OWNED_TABLES + CATALOG_TABLES) == before


def test_a_revoked_token_opens_nothing(app, client, ann, db):
    headers, ids = ann
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    before = snapshot(db, OWNED_TABLES + CATALOG_TABLES)
    for method, rule, _ in private_routes(app):
        response = call(client, method, rule, ids, headers)
        assert response.status_code == 401, (method, rule, response.get_json())
    assert snapshot(db, OWNED_TABLES + CATALOG_TABLES) == before


def test_users_get_403_on_every_admin_route(app, client, ann, db, redis_db):
    headers, ids = ann
    before = snapshot(db, OWNED_TABLES + CATALOG_TABLES)
    admin_routes = [(m, r) for m, r, _ in private_routes(app) if r.startswith("/api/v1/admin")]
    assert len(admin_routes) >= 14
    for method, rule in admin_routes:
        response = call(client, method, rule, ids, headers)
        assert (response.status_code, response.get_json()["code"]) == (403, "forbidden"), (method, rule)
    assert snapshot(db, OWNED_TABLES + CATALOG_TABLES) == before
    assert queued_jobs(redis_db) == []  # no job was triggered


def test_no_user_reads_or_changes_anothers_things(app, client, ann, db):
    _, ann_ids = ann
    bob = bearer(new_account(client, "bob@example.com")["access_token"])
    ann_id = db.execute("SELECT id FROM users WHERE email = 'ann@example.com'").fetchone()["id"]

    def anns_things() -> dict[str, list]:
        return {
            t: db.execute(f"SELECT * FROM {t} WHERE user_id = %s ORDER BY 1", [ann_id]).fetchall() for t in OWNED_TABLES
        }

    before = anns_things()
    assert all(before[t] for t in OWNED_TABLES if t != "webhook_deliveries")  # Ann really owns one of each
    for method, rule, _ in private_routes(app):
        if rule.startswith("/api/v1/admin"):
            continue
        response = call(client, method, rule, ann_ids, bob)
        assert response.status_code < 500, (method, rule)
        body = response.get_data(as_text=True)
        # Whatever Bob gets (his own empty lists, 404s, his own new things), nothing of Ann's shows.
        assert "ann@example.com" not in body and "ann.example.com" not in body, (method, rule, body)
        if method == "GET" and "{" in body and response.status_code == 200:
            data = response.get_json().get("data")
            if isinstance(data, list):
                assert data == [], (method, rule, data)
        if "<int:" in rule:
            assert response.status_code == 404, (method, rule, response.status_code)
    assert anns_things() == before
