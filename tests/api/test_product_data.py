"""A product's history (JSON and CSV, 1h/1d/1w), sales, listings and rank history."""

from __future__ import annotations

import csv
import io

import pytest

from tests.helpers import MARKET_LAST_DAY, assert_422


def test_daily_history_defaults_and_chosen_metrics(client, market):
    body = client.get("/api/v1/products/op-01-box/history").get_json()
    meta = body["meta"]
    assert (meta["interval"], meta["to"], meta["from"]) == ("1d", MARKET_LAST_DAY, "2025-12-01")  # 90 days
    assert meta["metrics"] == ["floor_price", "market_price", "volume_usd", "units_sold", "active_listings"]
    assert meta["product_id"] == client.get("/api/v1/products/op-01-box").get_json()["product"]["id"]
    assert body["data"][-1]["period"] == MARKET_LAST_DAY
    assert len(body["data"]) == meta["total"] == meta["limit"] == 21
    chosen = client.get("/api/v1/products/op-01-box/history?metrics=volume_ema_7d,momentum&from=2026-02-25").get_json()
    assert [set(row) for row in chosen["data"]] == [{"period", "volume_ema_7d", "momentum"}] * 5


def test_weekly_history_sums_flows_and_keeps_the_last_level(client, market, db):
    weekly = client.get("/api/v1/products/op-01-box/history?interval=1w&metrics=units_sold,floor_price").get_json()
    daily = client.get("/api/v1/products/op-01-box/history?metrics=units_sold,floor_price").get_json()["data"]
    assert sum(r["units_sold"] for r in weekly["data"]) == sum(r["units_sold"] for r in daily)
    assert weekly["data"][-1]["floor_price"] == daily[-1]["floor_price"]


def test_hourly_history_and_its_metric_whitelist(client, market):
    body = client.get(
        "/api/v1/products/op-01-box/history?interval=1h&metrics=floor_price,units_sold&from=2026-02-28&to=2026-03-01"
    ).get_json()
    assert body["data"]
    assert all(set(r) == {"period", "floor_price", "units_sold"} for r in body["data"])
    assert_422(client.get("/api/v1/products/op-01-box/history?interval=1h&metrics=momentum"), "query", "metrics")


def test_history_as_csv(client, market):
    response = client.get(
        "/api/v1/products/op-01-box/history?metrics=floor_price,units_sold", headers={"Accept": "text/csv"}
    )
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["period", "floor_price", "units_sold"]
    assert rows[-1][0] == MARKET_LAST_DAY
    json_again = client.get("/api/v1/products/op-01-box/history?metrics=floor_price,units_sold")
    assert json_again.mimetype == "application/json"  # the CSV in the cache is not served as JSON


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("metrics=password", "metrics"),
        ("metrics=floor_price;DROP", "metrics"),
        ("interval=1m", "interval"),
        ("from=2026-03-05&to=2026-03-01", "from"),
        ("from=2020-01-01&to=2026-03-01", "from"),
        ("to=tomorrow", "to"),
    ],
)
def test_history_rejects_bad_parameters(client, market, query, field):
    assert_422(client.get(f"/api/v1/products/op-01-box/history?{query}"), "query", field)


def test_sales_listings_and_rank_history(client, market, db):
    sales = client.get("/api/v1/products/op-01-box/sales?from=2026-02-01&to=2026-03-01&limit=5").get_json()
    assert (
        sales["meta"]["total"]
        == db.execute(
            "SELECT count(*) AS n FROM sales s JOIN products p ON p.id = s.product_id WHERE p.slug = 'op-01-box'"
        ).fetchone()["n"]
    )
    times = [s["sold_at"] for s in sales["data"]]
    assert times == sorted(times, reverse=True)
    inferred = client.get("/api/v1/products/op-01-box/sales?basis=inferred&from=2026-02-01&to=2026-03-01").get_json()
    assert {s["marketplace"] for s in inferred["data"]} <= {"sim-tcgplayer"}
    assert_422(client.get("/api/v1/products/op-01-box/sales?basis=maybe"), "query", "basis")

    listings = client.get("/api/v1/products/op-01-box/listings?limit=200").get_json()["data"]
    landed = [row["landed_price"] for row in listings]
    assert landed == sorted(landed)
    assert {row["marketplace"] for row in listings} == {"sim-tcgplayer", "sim-ebay"}
    floor = client.get("/api/v1/products/op-01-box").get_json()["metrics"]["floor_price"]
    assert landed[0] == floor

    ranks = client.get("/api/v1/products/op-01-box/rank-history?scope=one-piece").get_json()
    assert (ranks["meta"]["scope"], ranks["meta"]["to"], ranks["meta"]["total"]) == ("one-piece", MARKET_LAST_DAY, 21)
    assert {r["rank"] for r in ranks["data"]} <= {1, 2}
    assert client.get("/api/v1/products/no-such-box/rank-history").status_code == 404


def test_sparkline_svg(client, market):
    response = client.get("/api/v1/products/op-01-box/sparkline.svg?days=14&width=100&height=20")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert svg.startswith("<svg") and 'width="100"' in svg
    points = svg.split('points="')[1].split('"')[0].split()
    assert len(points) == 14
    assert all(0 <= float(p.split(",")[1]) <= 20 for p in points)
    assert client.get("/api/v1/products/op-01-box/sparkline.svg").headers["X-Cache"] in {"MISS", "HIT"}
    assert_422(client.get("/api/v1/products/op-01-box/sparkline.svg?days=1000"), "query", "days")
    assert_422(client.get("/api/v1/products/op-01-box/sparkline.svg?metric=secret"), "query", "metric")


def test_sparkline_breaks_at_gaps():
    from service.api.product_data.routes import sparkline_svg

    svg = sparkline_svg([1.0, 2.0, None, 3.0, 4.0], 50, 10)
    assert svg.count("<polyline") == 2
    assert "#16a34a" in svg  # rising
    assert "#dc2626" in sparkline_svg([4.0, 1.0], 50, 10)
    assert "<polyline" not in sparkline_svg([None, None], 50, 10)


def test_price_check_verdicts(client, market, db):
    floor = client.get("/api/v1/products/op-01-box").get_json()["metrics"]["floor_price"]

    def check(**query):
        return client.get("/api/v1/price-check", query_string=query)

    assert check(product="op-01-box", price=floor).get_json()["verdict"] == "good"
    assert check(product="op-01-box", price=round(floor * 1.05, 2)).get_json()["verdict"] == "fair"
    over = check(product="op-01-box", price=round(floor * 1.2, 2)).get_json()
    assert (over["verdict"], over["floor_price"]) == ("overpriced", floor)
    db.execute(
        "INSERT INTO product_sources (product_id, marketplace, external_id)"
        " SELECT id, 'tcgplayer', '450086' FROM products WHERE slug = 'op-01-box'"
    )
    assert check(tcgplayer_id=450086, price=1).get_json()["slug"] == "op-01-box"
    assert check(q="OP-02 box", price=1).get_json()["slug"] == "op-02-box"
    assert check(q="no such thing", price=1).status_code == 404
    assert_422(check(price=10), "query", "product")
    assert_422(check(product="op-01-box", q="x y", price=10), "query", "product")
    assert_422(check(product="op-01-box", price=0), "query", "price")
    assert_422(check(product="op-01-box", price="ten"), "query", "price")


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("listings?marketplace=Sim%20Ebay", "marketplace"),
        ("listings?limit=0", "limit"),
        ("sales?from=2026-03-05&to=2026-03-01", "from"),
        ("sales?marketplace=x;y", "marketplace"),
        ("rank-history?scope=All%20Games", "scope"),
        ("rank-history?from=soon", "from"),
    ],
)
def test_sub_resources_reject_bad_parameters(client, market, path, field):
    assert_422(client.get(f"/api/v1/products/op-01-box/{path}"), "query", field)
