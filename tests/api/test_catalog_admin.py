"""Admin catalog routes: games, products, product sources."""

from __future__ import annotations

import pytest
import redis

from jobs import pipeline
from service.core import cache
from tests.helpers import MARKET_LAST_DAY


def count(db, table: str) -> int:
    return db.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]


NEW_BOX = {
    "game": "one-piece",
    "name": "OP-14 Booster Box",
    "product_type": "booster_box",
    "set_code": "OP-14",
    "release_date": "2026-01-16",
    "msrp_usd": 107.76,
    "packs_per_box": 24,
}


def test_games_and_products_lifecycle(client, admin, products, db, redis_db):
    assert (
        client.post("/api/v1/admin/games", json={"code": "lorcana", "name": "Lorcana"}, headers=admin).status_code
        == 201
    )
    again = client.post("/api/v1/admin/games", json={"code": "lorcana", "name": "X"}, headers=admin)
    assert (again.status_code, again.get_json()["code"]) == (409, "conflict")
    renamed = client.patch("/api/v1/admin/games/lorcana", json={"name": "Disney Lorcana"}, headers=admin)
    assert renamed.get_json() == {"code": "lorcana", "name": "Disney Lorcana"}
    assert client.patch("/api/v1/admin/games/nope", json={"name": "N"}, headers=admin).status_code == 404

    created = client.post("/api/v1/admin/products", json=NEW_BOX, headers=admin)
    assert created.status_code == 201, created.get_json()
    product = created.get_json()
    assert product["slug"] == "op-14-booster-box" and product["active"] is True and product["sources"] == []
    assert int(redis_db.get(cache.DATA_VERSION_KEY)) >= 2  # the API cache moved on
    assert client.post("/api/v1/admin/products", json=NEW_BOX, headers=admin).status_code == 409

    patched = client.patch(
        f"/api/v1/admin/products/{product['id']}",
        json={"reprint_risk": "ELEVATED", "notes": "Reprint announced", "msrp_usd": None},
        headers=admin,
    )
    assert patched.status_code == 200
    assert (patched.get_json()["reprint_risk"], patched.get_json()["msrp_usd"]) == ("ELEVATED", None)
    assert client.get("/api/v1/products/op-14-booster-box").get_json()["product"]["reprint_risk"] == "ELEVATED"

    assert client.delete("/api/v1/admin/products/op-14-booster-box", headers=admin).status_code == 204
    shown = client.get("/api/v1/admin/products/op-14-booster-box", headers=admin).get_json()
    assert shown["active"] is False  # deactivated, not deleted
    assert count(db, "products") == 4


@pytest.mark.parametrize(
    "body",
    [
        {**NEW_BOX, "game": "no-such-game"},
        {**NEW_BOX, "slug": "Not A Slug"},
        {**NEW_BOX, "msrp_usd": -5},
        {**NEW_BOX, "reprint_risk": "HUGE"},
        {**NEW_BOX, "image_override_url": "javascript:alert(1)"},
        {**NEW_BOX, "name": ""},
        {**NEW_BOX, "unknown": 1},
        {k: v for k, v in NEW_BOX.items() if k != "product_type"},
        {**NEW_BOX, "name": "'; DROP TABLE products; --"},
    ],
)
def test_bad_products_are_refused(client, admin, products, db, body):
    response = client.post("/api/v1/admin/products", json=body, headers=admin)
    if body["name"].startswith("'"):  # an odd name is just a name, stored as text
        assert response.status_code == 201 and response.get_json()["name"] == body["name"]
        return
    assert response.status_code == 422, response.get_json()
    assert count(db, "products") == 3


def test_patches_are_validated_and_whitelisted(client, admin, products, db):
    path = f"/api/v1/admin/products/{products[0]}"
    assert client.patch(path, json={}, headers=admin).status_code == 422
    assert client.patch(path, json={"id": 99}, headers=admin).status_code == 422
    assert client.patch(path, json={"created_at": "2020-01-01T00:00:00Z"}, headers=admin).status_code == 422
    assert client.patch(path, json={"game": "nope"}, headers=admin).status_code == 422
    assert client.patch("/api/v1/admin/products/999999", json={"notes": "x"}, headers=admin).status_code == 404
    assert db.execute("SELECT game FROM products WHERE id = %s", [products[0]]).fetchone()["game"] == "one-piece"


def test_sources(client, admin, products, db):
    base = "/api/v1/admin/products/op-01-box/sources"
    ebay = {
        "marketplace": "ebay",
        "search_query": "one piece op-01 booster box english sealed",
        "category_id": "183456",
        "price_min_usd": 100,
        "price_max_usd": 2000,
        "exclude_terms": ["japanese", "case"],
    }
    created = client.post(base, json=ebay, headers=admin)
    assert created.status_code == 201, created.get_json()
    source = created.get_json()
    assert source["exclude_terms"] == ["japanese", "case"] and source["active"] is True
    assert client.post(base, json=ebay, headers=admin).status_code == 409
    assert client.post(base, json={**ebay, "marketplace": "nowhere"}, headers=admin).status_code == 422
    assert client.post(base, json={"marketplace": "tcgplayer", "price_min_usd": 500, "price_max_usd": 100},
                       headers=admin).status_code == 422  # fmt: skip
    assert client.get(base, headers=admin).get_json()["meta"]["total"] == 1

    patched = client.patch(f"/api/v1/admin/sources/{source['id']}", json={"price_max_usd": 1500}, headers=admin)
    assert patched.get_json()["price_max_usd"] == 1500
    bad = client.patch(f"/api/v1/admin/sources/{source['id']}", json={"price_max_usd": 50}, headers=admin)
    assert bad.status_code == 422  # below the minimum
    assert (
        client.get(f"/api/v1/admin/products/{products[0]}", headers=admin).get_json()["sources"][0]["id"]
        == source["id"]
    )
    assert client.delete(f"/api/v1/admin/sources/{source['id']}", headers=admin).status_code == 204
    assert client.delete(f"/api/v1/admin/sources/{source['id']}", headers=admin).status_code == 404
    assert count(db, "product_sources") == 0


def test_ordinary_users_cannot_change_the_catalog(client, user, products, db):
    assert client.post("/api/v1/admin/products", json=NEW_BOX, headers=user).status_code == 403
    assert client.delete("/api/v1/admin/products/op-01-box", headers=user).status_code == 403
    assert db.execute("SELECT bool_and(active) AS ok FROM products").fetchone()["ok"] is True


def ranks(client, path: str = "/api/v1/leaderboard") -> list[int]:
    return [row["rank"] for row in client.get(path).get_json()["data"]]


def test_a_deactivated_product_leaves_no_gap_in_the_ranks(client, admin, market, db, settings):
    """Ranks are stored per day over active products only; deactivating one asks the pipeline for the
    latest day again, and that run closes the gap (the leaderboard once showed ranks 2, 3)."""
    assert ranks(client) == [1, 2, 3]
    top = client.get("/api/v1/leaderboard").get_json()["data"][0]["product"]
    assert client.delete(f"/api/v1/admin/products/{top['slug']}", headers=admin).status_code == 204
    asked = [row["from_day"] for row in db.execute("SELECT from_day FROM pipeline_requests").fetchall()]
    assert [day.isoformat() for day in asked] == [MARKET_LAST_DAY]
    pipeline.run(settings.database_url, asked[0], asked[0], redis_client=redis.Redis.from_url(settings.redis_url))
    assert ranks(client) == [1, 2]
    for game in ("one-piece", "pokemon"):
        shown = ranks(client, f"/api/v1/leaderboard?game={game}")
        assert shown == list(range(1, len(shown) + 1)), game
    stored = db.execute(
        "SELECT count(*) AS n FROM product_ranks_daily WHERE product_id = %s AND day = %s", [top["id"], asked[0]]
    ).fetchone()
    assert stored["n"] == 0  # no rank at all, in any scope, on the recomputed day
    assert db.execute("SELECT count(*) AS n FROM pipeline_requests").fetchone()["n"] == 0  # served


def test_a_change_of_what_ranks_depend_on_asks_for_a_rerank(client, admin, market, db):
    client.patch("/api/v1/admin/products/op-01-box", json={"notes": "no effect on ranks"}, headers=admin)
    assert db.execute("SELECT count(*) AS n FROM pipeline_requests").fetchone()["n"] == 0
    client.patch("/api/v1/admin/products/op-01-box", json={"reprint_risk": "ELEVATED"}, headers=admin)
    client.patch("/api/v1/admin/products/op-01-box", json={"active": True}, headers=admin)
    reasons = [row["reason"] for row in db.execute("SELECT reason FROM pipeline_requests ORDER BY id").fetchall()]
    assert len(reasons) == 2 and "reprint_risk" in reasons[0] and "active" in reasons[1]
