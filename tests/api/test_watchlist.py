"""The watchlist, and that one user can never read or change another's."""

from __future__ import annotations

import threading
from collections import Counter

from service.app import create_app
from tests.helpers import make_settings, sign_in


def test_watch_list_and_unwatch(client, market):
    ann = sign_in(client, "ann@example.com")
    added = client.post("/api/v1/me/watchlist", json={"product": "op-01-box"}, headers=ann)
    assert added.status_code == 201
    assert client.post("/api/v1/me/watchlist", json={"product": str(market[2])}, headers=ann).status_code == 201
    again = client.post("/api/v1/me/watchlist", json={"product": "op-01-box"}, headers=ann)
    assert again.status_code == 201
    listed = client.get("/api/v1/me/watchlist", headers=ann).get_json()
    assert listed["meta"]["total"] == 2
    # Adding answers the row exactly as the list shows it (once only the input came back).
    row = next(item for item in listed["data"] if item["product"]["slug"] == "op-01-box")
    assert added.get_json() == again.get_json() == row
    assert row["metrics"]["floor_price"] is not None and row["rank"] is not None
    assert {item["product"]["slug"] for item in listed["data"]} == {"op-01-box", "sv-151-box"}
    assert all(item["metrics"]["floor_price"] is not None for item in listed["data"])
    assert all(item["rank"] is not None for item in listed["data"])
    assert client.delete("/api/v1/me/watchlist/op-01-box", headers=ann).status_code == 204
    assert client.delete("/api/v1/me/watchlist/op-01-box", headers=ann).status_code == 404
    assert client.get("/api/v1/me/watchlist", headers=ann).get_json()["meta"]["total"] == 1


def test_bad_input_changes_nothing(client, market, db):
    ann = sign_in(client, "ann@example.com")
    for body in ({"product": "no-such-box"}, {"product": "Bad Slug"}, {}, {"product": "op-01-box", "extra": 1}):
        assert client.post("/api/v1/me/watchlist", json=body, headers=ann).status_code in (400, 404, 422), body
    assert client.get("/api/v1/me/watchlist?limit=0", headers=ann).status_code == 422
    assert db.execute("SELECT count(*) AS n FROM watchlist_items").fetchone()["n"] == 0


def test_users_never_see_or_touch_each_others_watchlists(client, market, db):
    ann, bob = sign_in(client, "ann@example.com"), sign_in(client, "bob@example.com")
    client.post("/api/v1/me/watchlist", json={"product": "op-01-box"}, headers=ann)
    assert client.get("/api/v1/me/watchlist", headers=bob).get_json()["meta"]["total"] == 0
    assert client.delete("/api/v1/me/watchlist/op-01-box", headers=bob).status_code == 404
    assert client.get("/api/v1/me/watchlist", headers=ann).get_json()["meta"]["total"] == 1
    for method, path in (
        ("get", "/api/v1/me/watchlist"),
        ("post", "/api/v1/me/watchlist"),
        ("delete", "/api/v1/me/watchlist/op-01-box"),
    ):
        assert getattr(client, method)(path, json={"product": "op-01-box"}).status_code == 401


def test_adding_while_another_request_removes_the_same_item_never_fails(market, redis_db):
    """Found by `make bench-soak`: two clients of one account, one adding a box while the other removed
    it, got a 500 when the delete slipped between the add and the read-back of the added item."""
    app = create_app(make_settings(rate_limit_default="100000/minute"))
    ann = sign_in(app.test_client(), "ann@example.com")
    statuses: Counter[int] = Counter()

    def repeat(method: str, path: str, body: dict | None) -> None:
        client = app.test_client()
        for _ in range(150):
            statuses[client.open(path, method=method, json=body, headers=ann).status_code] += 1

    threads = [
        threading.Thread(target=repeat, args=("POST", "/api/v1/me/watchlist", {"product": "op-01-box"})),
        threading.Thread(target=repeat, args=("DELETE", "/api/v1/me/watchlist/op-01-box", None)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(statuses) <= {201, 204, 404}, statuses
    assert statuses[201] == 150
