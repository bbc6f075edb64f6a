"""Numbers leave the API rounded where they are produced (the database): money in cents, percentages
and indicators at the catalogue's places (service/core/metrics.py), the fear-and-greed score at one
place. Clients were getting 1136.4044746911402."""

from __future__ import annotations

from typing import Any

from service.core import metrics
from tests.helpers import MARKET_LAST_DAY

PLACES = {m.name: m.places for m in metrics.METRICS} | {m.column: m.places for m in metrics.METRICS}
PLACES |= {"fear_greed": 1}


def unrounded(body: Any, key: str = "") -> list[str]:
    """Every float in body with more decimals than its key allows (2 unless catalogued)."""
    if isinstance(body, dict):
        return [problem for k, v in body.items() for problem in unrounded(v, k)]
    if isinstance(body, list):
        return [problem for item in body for problem in unrounded(item, key)]
    if isinstance(body, float):
        places = PLACES.get(key) or 2
        return [] if round(body, places) == body else [f"{key}={body!r} (at most {places} places)"]
    return []


def test_metrics_history_index_and_portfolio_come_rounded(client, market, user):
    slug = client.get("/api/v1/products").get_json()["data"][0]["slug"]
    bodies = {
        "leaderboard": client.get("/api/v1/leaderboard?limit=200"),
        "product": client.get(f"/api/v1/products/{slug}"),
        "daily history": client.get(f"/api/v1/products/{slug}/history?metrics={','.join(metrics.CHARTED)}"),
        "weekly history": client.get(f"/api/v1/products/{slug}/history?interval=1w&metrics=volume_ema_7d,momentum"),
        "index": client.get("/api/v1/market/index"),
        "index history": client.get(f"/api/v1/market/index/history?to={MARKET_LAST_DAY}"),
        "movers": client.get("/api/v1/movers?period=7d"),
        "price check": client.get(f"/api/v1/price-check?product={slug}&price=99.99"),
    }
    client.post("/api/v1/me/portfolio", json={"product": slug, "quantity": 3, "unit_cost": 77.77}, headers=user)
    bodies["portfolio"] = client.get("/api/v1/me/portfolio", headers=user)
    floats = 0
    for name, response in bodies.items():
        assert response.status_code == 200, (name, response.get_json())
        assert not unrounded(response.get_json()), name
        floats += str(response.get_json()).count(".")
    assert floats > 100  # the check saw numbers with decimals, not only nulls
    metrics_row = bodies["leaderboard"].get_json()["data"][0]["metrics"]
    assert isinstance(metrics_row["volume_ema_7d"], float | int)
