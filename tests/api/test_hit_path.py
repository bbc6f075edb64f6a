"""Cached reads answered below Flask (service/api/hit_path.py): the same answer Flask gives, counted
once on the rate limit, recorded by telemetry and the access log; everything else still reaches Flask."""

from __future__ import annotations

import gzip
import logging
import re

import pytest

from service.app import create_app
from tests.helpers import bearer, clear_of_window_edges, make_settings, sign_in

GZIP = {"Accept-Encoding": "gzip"}
CSV = {"Accept": "text/csv"}


@pytest.fixture
def traced_app(migrated, redis_db):
    """An app that notes every request Flask itself handles (it runs URL value preprocessors before
    any before_request hook, so even a hit Flask's rate-limit hook answers is noted)."""
    clear_of_window_edges()
    app = create_app(make_settings(rate_limit_default="12/minute", cors_origins=("https://app.boosterbox.pro",)))
    app.handled = []  # type: ignore[attr-defined]
    app.url_value_preprocessor(lambda _endpoint, _values: app.handled.append(1))  # type: ignore[attr-defined]
    yield app
    app.extensions["boxpro.db"].close()


def handled_by_flask(app, call) -> tuple[object, bool]:  # type: ignore[no-untyped-def]
    before = len(app.handled)
    response = call()
    return response, len(app.handled) > before


def without_request_id(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {name: value for name, value in response.headers.items() if name != "X-Request-ID"}


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/v1/leaderboard?limit=50", {}),
        ("/api/v1/leaderboard?limit=50", GZIP),
        ("/api/v1/products/op-01-box", {}),
        ("/api/v1/products/op-01-box/history?interval=1d", CSV),
        ("/api/v1/market/index", GZIP),
    ],
)
def test_a_hit_below_flask_is_the_answer_flask_gives(traced_app, market, path, headers):
    client = traced_app.test_client()
    miss, by_flask = handled_by_flask(traced_app, lambda: client.get(path, headers=headers))
    assert (miss.status_code, miss.headers["X-Cache"], by_flask) == (200, "MISS", True)
    hit, by_flask = handled_by_flask(traced_app, lambda: client.get(path, headers=headers))
    assert (hit.status_code, hit.headers["X-Cache"], by_flask) == (200, "HIT", False)
    # A signed-in reader is counted on the account's budget, so Flask answers the same hit.
    token = sign_in(client)
    flask_hit, by_flask = handled_by_flask(traced_app, lambda: client.get(path, headers={**headers, **token}))
    assert (flask_hit.headers["X-Cache"], by_flask) == ("HIT", True)
    assert hit.get_data() == flask_hit.get_data() == miss.get_data()
    assert without_request_id(hit) == without_request_id(flask_hit) == {**without_request_id(miss), "X-Cache": "HIT"}
    assert len(hit.headers["X-Request-ID"]) == 32 and hit.headers["X-Request-ID"] != flask_hit.headers["X-Request-ID"]
    if headers is GZIP and hit.headers.get("Content-Encoding") == "gzip":
        assert gzip.decompress(hit.get_data()).startswith(b'{"data"')


def test_a_hit_is_counted_once_and_over_the_limit_flask_answers_429(traced_app, market, redis_db):
    client = traced_app.test_client()
    statuses = [client.get("/api/v1/games").status_code for _ in range(12)]
    assert statuses == [200] * 12
    counters = redis_db.keys("boxpro:rl:api:ip:127.0.0.1:*")
    assert len(counters) == 1 and int(redis_db.get(counters[0])) == 12  # one count per request, hits included
    limited, by_flask = handled_by_flask(traced_app, lambda: client.get("/api/v1/games"))
    assert (limited.status_code, by_flask) == (429, True)
    assert limited.get_json()["code"] == "rate_limited" and int(limited.headers["Retry-After"]) > 0
    assert int(redis_db.get(counters[0])) == 13  # Flask used the count made below it, not a second one


def test_a_stale_entry_is_a_miss_counted_once(traced_app, market, redis_db):
    client = traced_app.test_client()
    assert client.get("/api/v1/leaderboard").headers["X-Cache"] == "MISS"
    redis_db.incr("boxpro:data_version")  # new metrics landed
    stale, by_flask = handled_by_flask(traced_app, lambda: client.get("/api/v1/leaderboard"))
    assert (stale.headers["X-Cache"], by_flask) == ("MISS", True)
    (counter,) = redis_db.keys("boxpro:rl:api:ip:127.0.0.1:*")
    assert int(redis_db.get(counter)) == 2
    assert client.get("/api/v1/leaderboard").headers["X-Cache"] == "HIT"


def test_requests_only_flask_can_answer_go_to_flask(traced_app, market):
    client = traced_app.test_client()
    first = client.get("/api/v1/games")
    cases = {
        # A conditional request: Flask answers the 304.
        "If-None-Match": ({"If-None-Match": f"W/{first.headers['ETag']}"}, 304),
        # A cross-origin request: CORS headers on the hit.
        "Origin": ({"Origin": "https://app.boosterbox.pro"}, 200),
    }
    for name, (headers, status) in cases.items():
        response, by_flask = handled_by_flask(traced_app, lambda h=headers: client.get("/api/v1/games", headers=h))
        assert (response.status_code, by_flask) == (status, True), name
        assert response.headers["X-Cache"] == "HIT", name
    assert (
        client.get("/api/v1/games", headers={"Origin": "https://app.boosterbox.pro"}).headers[
            "Access-Control-Allow-Origin"
        ]
        == "https://app.boosterbox.pro"
    )
    head, by_flask = handled_by_flask(traced_app, lambda: client.head("/api/v1/games"))
    assert (head.status_code, by_flask, head.get_data()) == (200, True, b"")
    # A GET with a body over the limit is refused as before, even for a cached read.
    big, by_flask = handled_by_flask(traced_app, lambda: client.get("/api/v1/games", data=b"x" * (3 * 1024 * 1024)))
    assert (big.status_code, by_flask) == (413, True)


def test_hits_below_flask_are_recorded_in_telemetry_and_the_access_log(traced_app, market, caplog):
    client = traced_app.test_client()
    path = "/api/v1/products/op-01-box/history?interval=1d"
    client.get(path)
    before = client.get("/metrics").get_data(as_text=True)
    with caplog.at_level(logging.INFO, logger="boxpro.access"):
        hit = client.get(path, headers={"X-Request-ID": "reader-42"})
    assert hit.headers["X-Cache"] == "HIT" and hit.headers["X-Request-ID"] == "reader-42"
    after = client.get("/metrics").get_data(as_text=True)
    route = 'endpoint="/api/v1/products/<string:product>/history",method="GET",status="200"'
    line = next(line for line in after.splitlines() if line.startswith("boxpro_http_requests_total{") and route in line)
    old = next((x for x in before.splitlines() if x.split(" ")[0] == line.split(" ")[0]), line.split(" ")[0] + " 0")
    assert float(line.split(" ")[1]) - float(old.split(" ")[1]) == 1
    (record,) = [r for r in caplog.records if getattr(r, "request_id", None) == "reader-42"]
    assert (record.name, record.path, record.status) == ("boxpro.access", "/api/v1/products/op-01-box/history", 200)


def test_an_invalid_token_on_a_public_read_still_gets_the_hit(traced_app, market):
    client = traced_app.test_client()
    client.get("/api/v1/games")
    response, by_flask = handled_by_flask(traced_app, lambda: client.get("/api/v1/games", headers=bearer("junk")))
    assert (response.status_code, response.headers["X-Cache"], by_flask) == (200, "HIT", True)


def test_every_cached_read_is_public(app):
    """A cached answer is served to whoever asks for the same URL, below Flask and without a token
    check: a route that needs an account (the bearer scheme in its OpenAPI operation) must never be
    cached."""
    spec = app.test_client().get("/openapi.json").get_json()
    cached_rules = [
        rule for rule in app.url_map.iter_rules() if getattr(app.view_functions[rule.endpoint], "response_cache", False)
    ]
    assert len(cached_rules) >= 9  # the leaderboard, catalog, product data and market reads
    for rule in cached_rules:
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)  # <string:product> -> {product}
        operation = spec["paths"][path]["get"]
        assert "security" not in operation and "401" not in operation["responses"], path
