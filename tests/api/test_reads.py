"""The public read endpoints against live metrics of a small simulated market."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jobs import pipeline
from tests.helpers import MARKET_LAST_DAY, MARKET_NOW, assert_422, sign_in

NOW, LAST_DAY = MARKET_NOW, MARKET_LAST_DAY


def test_games_list_each_game_with_its_products(client, market):
    body = client.get("/api/v1/games").get_json()
    assert {g["code"]: g["products"] for g in body["data"]} == {"one-piece": 2, "pokemon": 1}
    assert body["meta"]["total"] == 2


def test_products_search_and_filters(client, market):
    everything = client.get("/api/v1/products").get_json()
    assert everything["meta"]["total"] == 3
    assert all(p["floor_price"] is not None for p in everything["data"])
    one_piece = client.get("/api/v1/products?game=one-piece").get_json()
    assert {p["slug"] for p in one_piece["data"]} == {"op-01-box", "op-02-box"}
    assert client.get("/api/v1/products?q=151").get_json()["data"][0]["slug"] == "sv-151-box"
    assert client.get("/api/v1/products?q=%25").get_json()["meta"]["total"] == 0  # a literal %, not a wildcard
    page = client.get("/api/v1/products?limit=1&offset=1").get_json()
    assert (len(page["data"]), page["meta"]["limit"], page["meta"]["offset"], page["meta"]["total"]) == (1, 1, 1, 3)


def _matches(product: dict, floor: float | None, given: dict[str, str]) -> bool:
    """What each product filter means, in Python, for a row of the unfiltered answer."""
    checks = {
        "game": lambda v: product["game"] == v,
        "product_type": lambda v: product["product_type"] == v,
        "release_year": lambda v: (product["release_date"] or "")[:4] == v,
        "min_price": lambda v: floor is not None and floor >= float(v),
        "max_price": lambda v: floor is not None and floor <= float(v),
        "q": lambda v: any(v.lower() in (product[f] or "").lower() for f in ("name", "slug", "set_code")),
    }
    return all(checks[name](value) for name, value in given.items())


@pytest.mark.parametrize("path", ["/api/v1/products", "/api/v1/leaderboard"])
def test_every_product_filter_alone_and_combined_keeps_exactly_the_matching_boxes(client, market, path):
    """The filters are composed into the statement only when given (service/api/common.py, FILTERS):
    each, and combinations of them, must select what its meaning says, from the unfiltered answer."""

    def rows(query: str) -> dict[str, tuple[dict, float | None]]:
        body = client.get(f"{path}?{query}").get_json()
        assert body["meta"]["total"] == len(body["data"]), query
        shaped = [(r["product"], r["metrics"]["floor_price"]) if "product" in r else (r, r["floor_price"])
                  for r in body["data"]]  # fmt: skip
        return {product["slug"]: (product, floor) for product, floor in shaped}

    everything = rows("limit=200")
    assert len(everything) == 3
    floors = sorted(floor for _, floor in everything.values())
    cases = [
        {"game": "pokemon"},
        {"product_type": "booster_box"},
        {"release_year": "2023"},
        {"min_price": str(floors[1])},
        {"max_price": str(floors[1])},
        {"q": "op-0"},
        {"game": "one-piece", "max_price": str(floors[2]), "q": "box"},
        {"release_year": "2022", "min_price": str(floors[0])},
        {"game": "pokemon", "q": "op"},  # nothing matches both
    ]
    for given in cases:
        query = "&".join(f"{name}={value}" for name, value in given.items())
        expected = {slug for slug, (product, floor) in everything.items() if _matches(product, floor, given)}
        assert set(rows(f"{query}&limit=200")) == expected, query
        assert 0 < len(expected) < 3 or given in (cases[1], cases[-1]), query  # each case tells something


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=100000", "limit"),
        ("offset=-1", "offset"),
        ("game=One%20Piece", "game"),
        ("release_year=abc", "release_year"),
        ("min_price=-5", "min_price"),
        ("bogus=1", "bogus"),
        ("q=" + "x" * 101, "q"),
        ("min_price=10&max_price=5", "min_price"),
    ],
)
def test_products_reject_bad_query_parameters(client, market, query, field):
    assert_422(client.get(f"/api/v1/products?{query}"), "query", field)


def test_product_detail_by_id_or_slug(client, market):
    by_slug = client.get("/api/v1/products/op-01-box").get_json()
    by_id = client.get(f"/api/v1/products/{market[0]}").get_json()
    assert by_slug == by_id
    assert by_slug["product"]["slug"] == "op-01-box"
    assert by_slug["metrics"]["day"] == LAST_DAY
    assert by_slug["metrics"]["liquidity_label"] in {"High", "Moderate", "Low", None}
    assert {r["scope"] for r in by_slug["ranks"]} == {"all", "one-piece"}
    assert {m["marketplace"] for m in by_slug["marketplaces"]} == {"sim-tcgplayer", "sim-ebay"}
    floors = [m["floor_price"] for m in by_slug["marketplaces"]]
    assert by_slug["metrics"]["floor_price"] == min(floors)


def test_product_detail_errors_change_nothing(client, market, db):
    assert client.get("/api/v1/products/no-such-box").status_code == 404
    assert client.get("/api/v1/products/999999").status_code == 404
    for ref in ("Bad%20Slug!", "1;DROP%20TABLE%20products", "op-01-box'--"):
        response = client.get(f"/api/v1/products/{ref}")
        assert response.status_code == 400, ref
        assert response.get_json()["code"] == "bad_request"
    assert db.execute("SELECT count(*) AS n FROM products").fetchone()["n"] == 3


def test_the_leaderboard_ranks_by_the_stored_competition_ranks(client, market, db):
    body = client.get("/api/v1/leaderboard").get_json()
    assert body["meta"]["day"] == LAST_DAY
    assert body["meta"]["total"] == 3
    ranks = [row["rank"] for row in body["data"]]
    assert ranks == sorted(ranks)
    emas = [row["metrics"]["volume_ema_7d"] for row in body["data"]]
    assert emas == sorted(emas, reverse=True)
    first = body["data"][0]
    assert set(first) >= {"rank", "change_1d", "change_7d", "product", "metrics"}
    assert first["change_1d"] in {"up", "down", "same", "new"}
    stored = db.execute(
        "SELECT rank FROM product_ranks_daily WHERE scope = 'all' AND day = %s AND product_id = %s",
        [LAST_DAY, first["product"]["id"]],
    ).fetchone()["rank"]
    assert first["rank"] == stored


def test_the_leaderboard_sorts_by_any_whitelisted_metric(client, market):
    body = client.get("/api/v1/leaderboard?sort=floor_price&direction=asc").get_json()
    floors = [row["metrics"]["floor_price"] for row in body["data"]]
    assert floors == sorted(floors)
    assert body["meta"]["direction"] == "asc"
    one_game = client.get("/api/v1/leaderboard?game=one-piece").get_json()
    assert [row["rank"] for row in one_game["data"]] == [1, 2]  # ranks within the game
    earlier = client.get(f"/api/v1/leaderboard?date={(NOW - timedelta(days=3)).date()}").get_json()
    assert earlier["meta"]["day"] == (NOW - timedelta(days=3)).date().isoformat()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("sort=name;drop", "sort"),
        ("sort=password", "sort"),
        ("direction=sideways", "direction"),
        ("min_price=10&max_price=5", "min_price"),
        ("date=yesterday", "date"),
        ("limit=201", "limit"),
    ],
)
def test_the_leaderboard_rejects_bad_parameters(client, market, query, field):
    assert_422(client.get(f"/api/v1/leaderboard?{query}"), "query", field)


def test_without_metrics_the_leaderboard_says_so(client, db):
    response = client.get("/api/v1/leaderboard")
    assert response.status_code == 404
    assert "No metrics" in response.get_json()["message"]


def test_movers_and_the_market_index(client, market):
    movers = client.get("/api/v1/movers?metric=floor&period=7d&limit=5").get_json()
    meta = movers["meta"]
    assert (meta["day"], meta["metric"], meta["period"], meta["per_direction"]) == (LAST_DAY, "floor", "7d", 5)
    assert meta["total"] == len(movers["data"])
    directions = [m["direction"] for m in movers["data"]]
    assert directions == sorted(directions)  # gainers first
    for mover in movers["data"]:
        assert (mover["change_usd"] > 0) == (mover["direction"] == "gainer")
        assert mover["price_before"] >= 5
    assert_422(client.get("/api/v1/movers?period=2d"), "query", "period")
    assert_422(client.get("/api/v1/movers?metric=volume"), "query", "metric")

    index = client.get("/api/v1/market/index").get_json()
    assert (index["scope"], index["day"], index["products_priced"]) == ("all", LAST_DAY, 3)
    assert index["sentiment"] in {"BULLISH", "BEARISH", "NEUTRAL"}
    assert client.get("/api/v1/market/index?scope=pokemon").get_json()["products_priced"] == 1
    assert client.get("/api/v1/market/index?scope=no-such-game").status_code == 404
    history = client.get("/api/v1/market/index/history").get_json()
    assert [p["day"] for p in history["data"]] == sorted(p["day"] for p in history["data"])
    assert history["data"][0]["index_value"] == 1000
    assert (history["meta"]["scope"], history["meta"]["to"], history["meta"]["total"]) == ("all", LAST_DAY, 21)
    assert_422(client.get(f"/api/v1/market/index/history?from={LAST_DAY}&to=2026-01-01"), "query", "from")


def test_reads_are_cached_by_data_version_with_etags(client, market, settings, redis_db):
    first = client.get("/api/v1/leaderboard?limit=2")
    assert (first.status_code, first.headers["X-Cache"]) == (200, "MISS")
    second = client.get("/api/v1/leaderboard?limit=2")
    assert second.headers["X-Cache"] == "HIT"
    assert second.get_data() == first.get_data()
    etag = first.headers["ETag"]
    assert second.headers["ETag"] == etag
    not_modified = client.get("/api/v1/leaderboard?limit=2", headers={"If-None-Match": etag})
    assert (not_modified.status_code, not_modified.get_data()) == (304, b"")
    # New metrics land: the pipeline bumps the data version and the next read is fresh.
    pipeline.run(settings.database_url, NOW.date(), NOW.date(), redis_client=redis_db)
    fresh = client.get("/api/v1/leaderboard?limit=2")
    assert fresh.headers["X-Cache"] == "MISS"
    assert client.get("/api/v1/leaderboard?limit=2", headers={"If-None-Match": etag}).status_code in (200, 304)
    # Errors are never cached.
    assert client.get("/api/v1/leaderboard?limit=0").status_code == 422
    assert client.get("/api/v1/leaderboard?limit=0").headers.get("X-Cache") is None


def test_reads_still_answer_when_redis_is_down(market, settings):
    from service.app import create_app
    from tests.helpers import make_settings

    app = create_app(make_settings(redis_url="redis://127.0.0.1:1/0"))
    response = app.test_client().get("/api/v1/leaderboard")
    assert response.status_code == 200
    assert response.headers["X-Cache"] == "BYPASS"
    assert response.get_json()["meta"]["total"] == 3
    app.extensions["boxpro.db"].close()


def test_the_response_cache_can_be_switched_off(app, client, market, monkeypatch, redis_db):
    from dataclasses import replace

    monkeypatch.setitem(app.config, "SETTINGS", replace(app.config["SETTINGS"], response_cache=False))
    for _ in range(2):
        response = client.get("/api/v1/leaderboard?limit=2")
        assert (response.status_code, response.headers["X-Cache"]) == (200, "BYPASS")
    assert redis_db.keys("boxpro:resp:*") == []


def test_the_sql_built_leaderboard_matches_the_marshmallow_shape(client, market):
    """The leaderboard's JSON is built in SQL (sql/queries/api/leaderboard.sql); the watchlist dumps
    the same columns through the same marshmallow schemas. Row for row they must agree."""

    ann = sign_in(client, "ann@example.com")
    for product in market:
        client.post("/api/v1/me/watchlist", json={"product": str(product)}, headers=ann)
    watched = {
        item["product"]["id"]: item for item in client.get("/api/v1/me/watchlist", headers=ann).get_json()["data"]
    }
    board = client.get("/api/v1/leaderboard").get_json()["data"]
    assert len(board) == len(watched) == 3
    for row in board:
        expected = {k: v for k, v in watched[row["product"]["id"]].items() if k != "added_at"}
        assert row == expected
    assert {row["change_1d"] for row in board} <= {"up", "down", "same", "new"}
    assert all(row["metrics"]["liquidity_label"] in {"High", "Moderate", "Low"} for row in board)


LISTS = [  # every GET answering a list, signed in for /me/...
    "/api/v1/games",
    "/api/v1/products",
    "/api/v1/leaderboard",
    "/api/v1/movers",
    "/api/v1/market/index/history",
    "/api/v1/products/op-01-box/history",
    "/api/v1/products/op-01-box/rank-history",
    "/api/v1/products/op-01-box/sales",
    "/api/v1/products/op-01-box/listings",
    "/api/v1/me/watchlist",
    "/api/v1/me/alerts",
    "/api/v1/me/notifications",
    "/api/v1/me/portfolio",
    "/api/v1/me/portfolio/history",
]


def test_every_list_is_data_and_meta(client, market):
    """SPEC §7: lists are {"data": [...], "meta": {total, limit, offset, ...}}, histories and the
    portfolio too (they once answered {"holdings"}, {"gainers", "losers"}, {"product_id", "data"})."""
    ann = sign_in(client, "ann@example.com")
    holding = {"product": "op-01-box", "quantity": 1, "unit_cost": 1, "acquired_on": "2026-02-15"}
    client.post("/api/v1/me/portfolio", headers=ann, json=holding)
    client.post("/api/v1/me/watchlist", headers=ann, json={"product": "op-01-box"})
    client.post("/api/v1/me/alerts", headers=ann, json={"product": "op-01-box", "kind": "floor_below", "price": 1})
    for path in LISTS:
        body = client.get(path, headers=ann).get_json()
        assert set(body) == {"data", "meta"}, path
        assert isinstance(body["data"], list), path
        assert {"total", "limit", "offset", "data_mode"} <= set(body["meta"]), path
        assert body["meta"]["total"] >= len(body["data"]) > 0 or path.endswith("/notifications"), path


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/leaderboard?limit=1&limit=2", "limit"),
        ("/api/v1/leaderboard?limit=2&sort=floor_price&limit=1", "limit"),
        ("/api/v1/products?game=pokemon&game=one-piece", "game"),
        ("/api/v1/products/op-01-box/history?interval=1d&interval=1w", "interval"),
        ("/api/v1/movers?period=1d&period=7d", "period"),
    ],
)
def test_a_parameter_given_twice_is_refused_and_nothing_is_cached(client, market, redis_db, path, field):
    """One value each: `?limit=1&limit=2` once answered with the first value, and the cache (whose keys
    sort the parameters) then served that answer to `?limit=2&limit=1`."""
    for _ in range(2):  # and again: nothing was stored for it
        assert_422(client.get(path), "query", field)
    assert redis_db.keys("boxpro:resp:*") == []
