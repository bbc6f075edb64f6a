"""Alerts: the API, evaluation in SQL (each kind, cooldown, concurrency), the notifications inbox."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from service.core import alerts
from tests.helpers import metrics, sign_in

DAY = date(2026, 3, 1)
NOW = datetime(2026, 3, 1, 18, tzinfo=UTC)


def user_id(db, email: str = "ann@example.com") -> int:
    return db.execute("SELECT id FROM users WHERE email = %s", [email]).fetchone()["id"]


def add_alert(db, owner: int, product_id: int, kind: str, threshold=None, window_days=None, **extra) -> int:
    created_at = extra.pop("created_at", NOW - timedelta(days=30))
    return db.execute(
        """INSERT INTO alerts (user_id, product_id, kind, threshold, window_days, created_at, cooldown_hours, active)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        [owner, product_id, kind, threshold, window_days, created_at, extra.get("cooldown_hours", 24),
         extra.get("active", True)],
    ).fetchone()["id"]  # fmt: skip


def fired_alert_ids(db) -> list[int]:
    return [r["alert_id"] for r in db.execute("SELECT alert_id FROM notifications ORDER BY alert_id")]


# --- the API ----------------------------------------------------------------------------------


def test_create_list_update_delete(client, products, db):
    ann = sign_in(client)
    created = client.post(
        "/api/v1/me/alerts", json={"product": "op-01-box", "kind": "floor_below", "price": 95.5}, headers=ann
    )
    assert created.status_code == 201, created.get_json()
    alert = created.get_json()
    assert alert["price"] == 95.5 and alert["cooldown_hours"] == 24 and alert["active"] is True
    assert alert["product"]["slug"] == "op-01-box" and alert["change_pct"] is None and alert["window"] is None

    body = {"product": str(products[2]), "kind": "floor_change", "change_pct": 10, "window": "7d", "cooldown_hours": 6}
    change = client.post("/api/v1/me/alerts", json=body, headers=ann).get_json()
    assert (change["change_pct"], change["window"], change["cooldown_hours"]) == (10, "7d", 6)
    spike = client.post("/api/v1/me/alerts", json={"product": "op-02-box", "kind": "volume_spike"}, headers=ann)
    assert spike.status_code == 201

    listed = client.get("/api/v1/me/alerts", headers=ann).get_json()
    assert listed["meta"]["total"] == 3
    assert [a["kind"] for a in listed["data"]] == ["volume_spike", "floor_change", "floor_below"]

    patched = client.patch(f"/api/v1/me/alerts/{alert['id']}", json={"price": 90, "active": False}, headers=ann)
    assert patched.status_code == 200
    assert (patched.get_json()["price"], patched.get_json()["active"]) == (90, False)
    assert client.get(f"/api/v1/me/alerts/{alert['id']}", headers=ann).get_json()["price"] == 90

    assert client.delete(f"/api/v1/me/alerts/{alert['id']}", headers=ann).status_code == 204
    assert client.delete(f"/api/v1/me/alerts/{alert['id']}", headers=ann).status_code == 404
    assert client.get(f"/api/v1/me/alerts/{alert['id']}", headers=ann).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"product": "op-01-box", "kind": "floor_below"}, "price"),
        ({"product": "op-01-box", "kind": "floor_below", "price": 10, "window": "7d"}, "window"),
        ({"product": "op-01-box", "kind": "floor_change", "change_pct": 5}, "window"),
        ({"product": "op-01-box", "kind": "floor_change", "window": "1d"}, "change_pct"),
        ({"product": "op-01-box", "kind": "floor_change", "change_pct": 5, "window": "30d"}, "window"),
        ({"product": "op-01-box", "kind": "volume_spike", "price": 10}, "price"),
        ({"product": "op-01-box", "kind": "floor_moon"}, "kind"),
        ({"product": "op-01-box", "kind": "floor_below", "price": -1}, "price"),
        ({"product": "op-01-box", "kind": "floor_below", "price": 10.001}, "price"),
        ({"product": "op-01-box", "kind": "floor_below", "price": "cheap"}, "price"),
        ({"product": "op-01-box", "kind": "floor_below", "price": 10, "cooldown_hours": 0}, "cooldown_hours"),
        ({"product": "op-01-box", "kind": "floor_below", "price": 10, "cooldown_hours": 10**9}, "cooldown_hours"),
        ({"product": "op-01-box", "kind": "floor_below", "price": 10, "owner": 1}, "owner"),
        ({"kind": "floor_below", "price": 10}, "product"),
    ],
)
def test_bad_alerts_are_refused_and_change_nothing(client, products, db, body, field):
    ann = sign_in(client)
    response = client.post("/api/v1/me/alerts", json=body, headers=ann)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["details"]["json"]
    assert db.execute("SELECT count(*) AS n FROM alerts").fetchone()["n"] == 0


def test_unknown_product_is_404_and_patch_keeps_the_kind(client, products, db):
    ann = sign_in(client)
    body = {"product": "no-such-box", "kind": "floor_below", "price": 10}
    assert client.post("/api/v1/me/alerts", json=body, headers=ann).status_code == 404
    alert = client.post("/api/v1/me/alerts", json={**body, "product": "op-01-box"}, headers=ann).get_json()
    refused = client.patch(f"/api/v1/me/alerts/{alert['id']}", json={"change_pct": 5}, headers=ann)
    assert refused.status_code == 422 and "change_pct" in refused.get_json()["details"]["json"]
    assert (
        client.patch(f"/api/v1/me/alerts/{alert['id']}", json={"kind": "floor_above"}, headers=ann).status_code == 422
    )
    assert client.get(f"/api/v1/me/alerts/{alert['id']}", headers=ann).get_json()["price"] == 10


def test_the_number_of_alerts_is_capped(client, products, db):
    ann = sign_in(client)
    owner = user_id(db)
    db.execute(
        "INSERT INTO alerts (user_id, product_id, kind) SELECT %s, %s, 'volume_spike' FROM generate_series(1, 100)",
        [owner, products[0]],
    )
    response = client.post("/api/v1/me/alerts", json={"product": "op-01-box", "kind": "volume_spike"}, headers=ann)
    assert response.status_code == 409 and response.get_json()["code"] == "limit_reached"
    assert db.execute("SELECT count(*) AS n FROM alerts").fetchone()["n"] == 100


# --- evaluation -------------------------------------------------------------------------------


def test_floor_alerts_fire_on_the_newest_day_once_per_cooldown(db, products):
    db.execute("INSERT INTO users (email, password_hash) VALUES ('ann@example.com', 'x')")
    owner = user_id(db)
    metrics(db, products[0], DAY, floor_price=99.99)
    below = add_alert(db, owner, products[0], "floor_below", 100)
    at_floor = add_alert(db, owner, products[0], "floor_below", 99.99)  # not below
    above = add_alert(db, owner, products[0], "floor_above", 99.98)
    paused = add_alert(db, owner, products[0], "floor_below", 100, active=False)
    other_product = add_alert(db, owner, products[1], "floor_below", 1000)  # no metrics that day

    assert alerts.evaluate_metrics(db, DAY, now=NOW) == alerts.Fired(2, 0)
    assert fired_alert_ids(db) == [below, above]
    assert at_floor and paused and other_product  # created, and silent
    # Within the cooldown: silent. After it: fires again.
    assert alerts.evaluate_metrics(db, DAY, now=NOW + timedelta(hours=23, minutes=59)).notifications == 0
    assert alerts.evaluate_metrics(db, DAY, now=NOW + timedelta(hours=24)).notifications == 2
    note = db.execute("SELECT * FROM notifications WHERE alert_id = %s ORDER BY id LIMIT 1", [below]).fetchone()
    assert note["message"] == "OP-01 Box: floor $99.99 is below $100.00"
    assert note["details"]["floor_price"] == 99.99 and note["fired_at"] == NOW


def test_floor_change_and_volume_spike(db, products):
    db.execute("INSERT INTO users (email, password_hash) VALUES ('ann@example.com', 'x')")
    owner = user_id(db)
    metrics(db, products[0], DAY, floor_price=90, floor_change_pct_1d=-10.5, floor_change_pct_7d=4)
    metrics(db, products[1], DAY - timedelta(days=1), units_sold_sma_7d=2.5)
    metrics(db, products[1], DAY, units_sold=5)
    metrics(db, products[2], DAY - timedelta(days=1), units_sold_sma_7d=2.5)
    metrics(db, products[2], DAY, units_sold=4)  # 1.6x: no spike
    drop_1d = add_alert(db, owner, products[0], "floor_change", 10, 1)
    add_alert(db, owner, products[0], "floor_change", 10.5, 1)  # not beyond 10.5 %
    add_alert(db, owner, products[0], "floor_change", 5, 7)  # 4 % over 7 days
    spike = add_alert(db, owner, products[1], "volume_spike")
    add_alert(db, owner, products[2], "volume_spike")

    assert alerts.evaluate_metrics(db, DAY, now=NOW).notifications == 2
    assert fired_alert_ids(db) == [drop_1d, spike]
    messages = [r["message"] for r in db.execute("SELECT message FROM notifications ORDER BY alert_id")]
    assert messages == [
        "OP-01 Box: floor moved -10.5 % over 1 day(s) (alert at ±10.00 %)",
        "OP-02 Box: 5 units sold on 2026-03-01, 2.0\u00d7 the 7-day average of 2.5",
    ]


def test_listing_below_fires_on_new_and_cut_listings_after_the_alert_was_made(db, products):
    db.execute("INSERT INTO users (email, password_hash) VALUES ('ann@example.com', 'x')")
    owner = user_id(db)
    created = NOW - timedelta(hours=6)
    first = add_alert(db, owner, products[0], "listing_below", 80, created_at=created)
    second = add_alert(db, owner, products[1], "listing_below", 80, created_at=created)
    third = add_alert(db, owner, products[2], "listing_below", 80, created_at=created)

    def event(product_id, at, kind, price, prev=None, marketplace="sim-tcgplayer"):
        db.execute(
            """INSERT INTO listing_events (observed_at, product_id, marketplace, listing_id, seller_id, event,
                                           prev_unit_price, unit_price, prev_quantity, quantity)
               VALUES (%s, %s, %s, %s, 's', %s, %s, %s, 1, 1)""",
            [at, product_id, marketplace, f"L{price}", kind, prev, price],
        )

    event(products[0], created - timedelta(hours=1), "LISTED", 70)  # before the alert existed
    event(products[0], NOW - timedelta(hours=1), "LISTED", 79)
    event(products[0], NOW - timedelta(hours=1), "LISTED", 75)  # the cheapest is reported
    event(products[1], NOW - timedelta(hours=1), "PRICE_CHANGED", 78, prev=85)
    event(products[2], NOW - timedelta(hours=1), "PRICE_CHANGED", 70, prev=75)  # was already below
    event(products[2], NOW - timedelta(hours=1), "LISTED", 60, marketplace="sim-ebay")  # other marketplace

    fired = alerts.evaluate_listings(db, "sim-tcgplayer", products, since=NOW - timedelta(days=1), now=NOW)
    assert fired.notifications == 2
    assert fired_alert_ids(db) == [first, second]
    details = db.execute("SELECT details FROM notifications WHERE alert_id = %s", [first]).fetchone()["details"]
    assert (details["unit_price"], details["listing_id"]) == (75, "L75")
    assert third
    # The same events again (a retried ingest): nothing new fires.
    assert (
        alerts.evaluate_listings(db, "sim-tcgplayer", products, since=NOW - timedelta(days=1), now=NOW).notifications
        == 0
    )


def test_two_evaluations_at_once_fire_an_alert_once(db, products, settings):
    db.execute("INSERT INTO users (email, password_hash) VALUES ('ann@example.com', 'x')")
    metrics(db, products[0], DAY, floor_price=50)
    add_alert(db, user_id(db), products[0], "floor_below", 100)
    results: list[alerts.Fired] = []
    with psycopg.connect(settings.database_url) as first:
        # The first evaluation fires but has not committed; the second must wait for its row lock,
        # then see the alert already fired.
        first.execute(alerts.query("alerts/evaluate_metrics"), {"day": DAY, "now": NOW})

        def second() -> None:
            with psycopg.connect(settings.database_url, autocommit=True) as conn:
                results.append(alerts.evaluate_metrics(conn, DAY, now=NOW))

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=0.5)
        assert thread.is_alive(), "the second evaluation should be waiting for the first"
        first.commit()
        thread.join(timeout=10)
    assert results == [alerts.Fired(0, 0)]
    assert db.execute("SELECT count(*) AS n FROM notifications").fetchone()["n"] == 1


# --- the inbox --------------------------------------------------------------------------------


def test_notifications_inbox_and_isolation(client, products, db):
    ann, bob = sign_in(client), sign_in(client, "bob@example.com")
    metrics(db, products[0], DAY, floor_price=50)
    body = {"product": "op-01-box", "kind": "floor_below", "price": 100}
    alert = client.post("/api/v1/me/alerts", json=body, headers=ann).get_json()
    client.post("/api/v1/me/alerts", json={**body, "price": 60}, headers=ann)
    assert alerts.evaluate_metrics(db, DAY).notifications == 2

    inbox = client.get("/api/v1/me/notifications", headers=ann).get_json()
    assert inbox["meta"] == {"total": 2, "unread": 2, "limit": 50, "offset": 0, "data_mode": "demo"}
    first = inbox["data"][-1]
    assert first["alert_id"] == alert["id"] and first["product"]["slug"] == "op-01-box" and first["read_at"] is None

    # Bob sees none of it and can change none of it.
    assert client.get("/api/v1/me/notifications", headers=bob).get_json()["meta"]["total"] == 0
    assert client.post(f"/api/v1/me/notifications/{first['id']}/read", headers=bob).status_code == 404
    assert client.get(f"/api/v1/me/alerts/{alert['id']}", headers=bob).status_code == 404
    assert client.patch(f"/api/v1/me/alerts/{alert['id']}", json={"price": 1}, headers=bob).status_code == 404
    assert client.delete(f"/api/v1/me/alerts/{alert['id']}", headers=bob).status_code == 404
    assert client.post("/api/v1/me/notifications/read", headers=bob).get_json() == {"marked": 0}
    assert client.get("/api/v1/me/alerts", headers=bob).get_json()["meta"]["total"] == 0

    read = client.post(f"/api/v1/me/notifications/{first['id']}/read", headers=ann)
    assert read.status_code == 200 and read.get_json()["read_at"] is not None
    unread = client.get("/api/v1/me/notifications?unread=true", headers=ann).get_json()
    assert unread["meta"]["total"] == 1 and unread["meta"]["unread"] == 1
    assert client.post("/api/v1/me/notifications/read", headers=ann).get_json() == {"marked": 1}
    assert client.get("/api/v1/me/notifications?unread=true", headers=ann).get_json()["meta"]["total"] == 0
    # Deleting the alert keeps its notifications.
    client.delete(f"/api/v1/me/alerts/{alert['id']}", headers=ann)
    kept = client.get("/api/v1/me/notifications", headers=ann).get_json()
    assert kept["meta"]["total"] == 2 and kept["data"][-1]["alert_id"] is None


def test_inbox_bad_input(client, products):
    ann = sign_in(client)
    for query in ("unread=maybe", "limit=0", "limit=100000", "offset=-1", "sort=id"):
        assert client.get(f"/api/v1/me/notifications?{query}", headers=ann).status_code == 422, query
    assert client.post("/api/v1/me/notifications/abc/read", headers=ann).status_code == 404
    assert client.post("/api/v1/me/notifications/99999999999999/read", headers=ann).status_code == 404
