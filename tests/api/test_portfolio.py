"""The portfolio: holdings, valuation, P&L in SQL, history, and isolation between users."""

from __future__ import annotations

import pytest

from tests.helpers import MARKET_LAST_DAY, sign_in


def floor_of(client, slug: str) -> float:
    return client.get(f"/api/v1/products/{slug}").get_json()["metrics"]["floor_price"]


def test_holdings_are_valued_at_the_floor_with_pnl_overall_and_per_game(client, market):
    ann = sign_in(client, "ann@example.com")
    first = client.post(
        "/api/v1/me/portfolio",
        headers=ann,
        json={"product": "op-01-box", "quantity": 2, "unit_cost": "100.00", "acquired_on": "2026-02-15"},
    )
    assert first.status_code == 201
    holding = first.get_json()
    floor = floor_of(client, "op-01-box")
    assert holding["unit_value"] == floor
    assert holding["value"] == pytest.approx(2 * floor)
    assert holding["pnl_usd"] == pytest.approx(2 * floor - 200)
    assert holding["pnl_pct"] == pytest.approx((floor - 100) / 100 * 100)
    client.post("/api/v1/me/portfolio", headers=ann, json={"product": "sv-151-box", "quantity": 1, "unit_cost": 50})
    body = client.get("/api/v1/me/portfolio", headers=ann).get_json()
    assert len(body["data"]) == body["meta"]["total"] == 2
    assert body["data"][0]["slug"] == "sv-151-box"  # newest acquisition first
    total_value = 2 * floor + floor_of(client, "sv-151-box")
    totals = body["meta"]["totals"]
    assert totals["cost_basis"] == 250
    assert totals["value"] == pytest.approx(total_value)
    assert totals["pnl_pct"] == pytest.approx((total_value - 250) / 250 * 100)
    assert set(body["meta"]["by_game"]) == {"one-piece", "pokemon"}
    assert body["meta"]["by_game"]["pokemon"]["cost_basis"] == 50


def test_update_delete_and_history(client, market):
    ann = sign_in(client, "ann@example.com")
    holding = client.post(
        "/api/v1/me/portfolio",
        headers=ann,
        json={"product": "op-01-box", "quantity": 1, "unit_cost": 80, "acquired_on": "2026-02-25"},
    ).get_json()
    patched = client.patch(
        f"/api/v1/me/portfolio/{holding['id']}", headers=ann, json={"quantity": 3, "notes": "sealed"}
    )
    assert (patched.get_json()["quantity"], patched.get_json()["notes"]) == (3, "sealed")
    body = client.get("/api/v1/me/portfolio/history?from=2026-02-20", headers=ann).get_json()
    assert (body["meta"]["from"], body["meta"]["to"]) == ("2026-02-20", MARKET_LAST_DAY)
    history = body["data"]
    assert history[0]["day"] == "2026-02-25"  # nothing held before it was acquired
    assert history[-1]["day"] == MARKET_LAST_DAY
    assert history[-1]["cost_basis"] == 240
    assert history[-1]["value"] == pytest.approx(3 * floor_of(client, "op-01-box"))
    assert client.delete(f"/api/v1/me/portfolio/{holding['id']}", headers=ann).status_code == 204
    assert client.get("/api/v1/me/portfolio", headers=ann).get_json()["meta"]["totals"]["cost_basis"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"product": "op-01-box", "quantity": 0, "unit_cost": 1},
        {"product": "op-01-box", "quantity": 1, "unit_cost": -1},
        {"product": "op-01-box", "quantity": 1, "unit_cost": "1.234"},
        {"product": "no-such-box", "quantity": 1, "unit_cost": 1},
        {"product": "op-01-box", "quantity": 1, "unit_cost": 1, "owner": 2},
        {"quantity": 1, "unit_cost": 1},
        {"product": "op-01-box", "quantity": 1, "unit_cost": 1, "notes": "x" * 501},
    ],
)
def test_bad_holdings_are_refused_and_change_nothing(client, market, db, body):
    ann = sign_in(client, "ann@example.com")
    assert client.post("/api/v1/me/portfolio", headers=ann, json=body).status_code in (400, 404, 422)
    assert db.execute("SELECT count(*) AS n FROM holdings").fetchone()["n"] == 0


def test_one_user_cannot_read_or_change_anothers_holdings(client, market, db):
    ann, bob = sign_in(client, "ann@example.com"), sign_in(client, "bob@example.com")
    holding = client.post(
        "/api/v1/me/portfolio", headers=ann, json={"product": "op-01-box", "quantity": 1, "unit_cost": 10}
    ).get_json()
    assert client.get("/api/v1/me/portfolio", headers=bob).get_json()["data"] == []
    assert client.patch(f"/api/v1/me/portfolio/{holding['id']}", headers=bob, json={"quantity": 9}).status_code == 404
    assert client.delete(f"/api/v1/me/portfolio/{holding['id']}", headers=bob).status_code == 404
    assert db.execute("SELECT quantity FROM holdings").fetchone()["quantity"] == 1
    assert client.get("/api/v1/me/portfolio").status_code == 401
    assert client.get("/api/v1/me/portfolio/history").status_code == 401


def test_bad_updates_and_history_ranges_are_refused_and_change_nothing(client, market, db):
    ann = sign_in(client, "ann@example.com")
    holding = client.post(
        "/api/v1/me/portfolio", headers=ann, json={"product": "op-01-box", "quantity": 2, "unit_cost": 10}
    ).get_json()
    for body in (
        {"quantity": 0},
        {"unit_cost": "abc"},
        {"unit_cost": "1.001"},
        {"product": "sv-151-box"},
        {"acquired_on": "not a date"},
        {"notes": "x" * 501},
    ):
        response = client.patch(f"/api/v1/me/portfolio/{holding['id']}", headers=ann, json=body)
        assert response.status_code == 422, body
    assert client.patch("/api/v1/me/portfolio/999999", headers=ann, json={"quantity": 1}).status_code == 404
    row = db.execute("SELECT quantity, unit_cost, notes FROM holdings").fetchone()
    assert (row["quantity"], str(row["unit_cost"]), row["notes"]) == (2, "10.00", None)
    assert client.get("/api/v1/me/portfolio/history?from=2026-03-05&to=2026-03-01", headers=ann).status_code == 422
    assert client.get("/api/v1/me/portfolio/history?from=yesterday", headers=ann).status_code == 422
