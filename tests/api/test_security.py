from __future__ import annotations

import pytest

from service.app import create_app
from service.core.settings import Settings, SettingsError
from tests.helpers import clear_of_window_edges, make_settings, new_account


@pytest.fixture
def strict_app(migrated, redis_db):
    clear_of_window_edges()
    app = create_app(make_settings(rate_limit_default="3/minute", cors_origins=("https://app.boosterbox.pro",)))
    yield app
    app.extensions["boxpro.db"].close()


def test_over_the_limit_is_429_with_retry_after_in_the_error_shape(strict_app, db):
    client = strict_app.test_client()
    statuses = [client.get("/api/v1/games").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/v1/games")
    body = limited.get_json()
    assert (body["status"], body["code"]) == (429, "rate_limited")
    assert int(limited.headers["Retry-After"]) > 0
    assert limited.headers["X-RateLimit-Limit"] == "3"
    # The limit is per client: another address is not affected; probes are never limited.
    assert client.get("/api/v1/games", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 200
    assert all(client.get("/health").status_code == 200 for _ in range(5))


def test_limits_are_shared_through_redis_by_every_process(strict_app, db):
    other_worker = create_app(make_settings(rate_limit_default="3/minute"))
    a, b = strict_app.test_client(), other_worker.test_client()
    assert [
        a.get("/api/v1/games").status_code,
        b.get("/api/v1/games").status_code,
        a.get("/api/v1/games").status_code,
        b.get("/api/v1/games").status_code,
    ] == [200, 200, 200, 429]
    other_worker.extensions["boxpro.db"].close()


def test_security_headers_and_cors_for_allowed_origins_only(strict_app, db):
    client = strict_app.test_client()
    allowed = client.get("/api/v1/games", headers={"Origin": "https://app.boosterbox.pro"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.boosterbox.pro"
    assert "ETag" in allowed.headers["Access-Control-Expose-Headers"]
    other = client.get("/api/v1/games", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    for header, value in (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY")):
        assert other.headers[header] == value
    assert "Strict-Transport-Security" not in other.headers
    secure = client.get("/health", base_url="https://api.boosterbox.pro")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_cors_headers_only_when_asked_and_every_answer_varies_on_origin(db, redis_db):
    """No Origin, no CORS headers. Every answer varies on Origin, cached ones (MISS, HIT) included, so a
    shared cache never hands an answer without CORS headers to a browser on an allowed origin."""
    app = create_app(make_settings(cors_origins=("https://app.boosterbox.pro",)))
    client = app.test_client()
    for expected in ("MISS", "HIT"):
        plain = client.get("/api/v1/products")
        assert plain.headers["X-Cache"] == expected and "Access-Control-Allow-Origin" not in plain.headers
        assert "Origin" in plain.headers["Vary"]
    asked = client.get("/api/v1/products", headers={"Origin": "https://app.boosterbox.pro"})
    assert asked.headers["Access-Control-Allow-Origin"] == "https://app.boosterbox.pro"
    assert "Origin" in asked.headers["Vary"]
    assert "Origin" in client.get("/api/v1/no-such-route").headers["Vary"]  # errors too
    app.extensions["boxpro.db"].close()


def test_with_redis_down_requests_are_still_served(db):
    app = create_app(make_settings(redis_url="redis://127.0.0.1:1/0", rate_limit_default="100/minute"))
    assert app.test_client().get("/api/v1/games").status_code == 200
    app.extensions["boxpro.db"].close()


def test_bad_cors_origins_are_refused_at_start():
    with pytest.raises(SettingsError, match="CORS_ORIGINS"):
        Settings.from_env({"CORS_ORIGINS": "app.example.com"})


def test_signed_in_callers_are_limited_per_account_not_per_address(strict_app, db):
    client = strict_app.test_client()
    headers = {"Authorization": f"Bearer {new_account(client)['access_token']}"}
    # The account's budget follows it across addresses...
    statuses = [
        client.get("/api/v1/games", headers=headers, environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}).status_code
        for i in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    # ...and does not eat into the budget of anonymous callers at the same address.
    assert client.get("/api/v1/games", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 200
    # A garbage token is treated as anonymous for limiting (the view still refuses it where it matters).
    assert (
        client.get(
            "/api/v1/games", headers={"Authorization": "Bearer junk"}, environ_base={"REMOTE_ADDR": "10.0.0.99"}
        ).status_code
        == 200
    )


def test_redis_down_falls_back_to_limits_in_memory(db):
    clear_of_window_edges()
    app = create_app(make_settings(redis_url="redis://127.0.0.1:1/0", rate_limit_default="3/minute"))
    client = app.test_client()
    assert [client.get("/api/v1/games").status_code for _ in range(4)] == [200, 200, 200, 429]
    app.extensions["boxpro.db"].close()


def test_login_has_its_own_stricter_budget(strict_app, db):
    client = strict_app.test_client()
    assert [client.get("/api/v1/games").status_code for _ in range(3)] == [200, 200, 200]
    # The API budget is spent, the login budget is not (and the other way round).
    wrong = {"email": "nobody@example.com", "password": "not the password"}
    assert client.post("/api/v1/auth/login", json=wrong).status_code == 401


@pytest.mark.parametrize("rate", ["300", "300/fortnight", "0/minute", "-1/minute", "many/minute"])
def test_malformed_rates_are_refused_at_start(rate):
    with pytest.raises(SettingsError, match="RATE_LIMIT_DEFAULT"):
        Settings.from_env({"RATE_LIMIT_DEFAULT": rate})


def test_a_cached_read_costs_one_redis_round_trip(client, products, redis_db):
    assert client.get("/api/v1/games").headers["X-Cache"] == "MISS"

    def calls() -> dict[str, int]:
        stats = redis_db.info("commandstats")
        return {k.removeprefix("cmdstat_"): v["calls"] for k, v in stats.items() if k != "cmdstat_info"}

    before = calls()
    response = client.get("/api/v1/games")
    assert response.headers["X-Cache"] == "HIT"
    after = calls()
    grew = {name: n - before.get(name, 0) for name, n in after.items() if n != before.get(name, 0)}
    # One script call (EVALSHA) from the client; inside it, the count and the two lookups.
    assert grew == {"evalsha": 1, "incr": 1, "get": 2}


def test_a_signed_in_cached_read_costs_the_same_one_round_trip(client, products, redis_db):
    """Whose budget a request spends needs the token's signature, not its session: a public read
    does not ask Redis whether the session ended (a view behind @login_required does)."""
    headers = {"Authorization": f"Bearer {new_account(client)['access_token']}"}
    assert client.get("/api/v1/games", headers=headers).headers["X-Cache"] == "MISS"
    before = {k: v["calls"] for k, v in redis_db.info("commandstats").items()}
    assert client.get("/api/v1/games", headers=headers).headers["X-Cache"] == "HIT"
    after = {k: v["calls"] for k, v in redis_db.info("commandstats").items()}
    grew = {k.removeprefix("cmdstat_"): n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)}
    grew.pop("info", None)
    assert grew == {"evalsha": 1, "incr": 1, "get": 2}
    # ...and the budget is still the account's: the same token from another address shares it.
    counters = {key.decode() for key in redis_db.keys("boxpro:rl:api:*")}
    assert len(counters) == 1 and counters.pop().startswith("boxpro:rl:api:user:")
