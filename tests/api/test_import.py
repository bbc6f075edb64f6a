"""Manual import of listings, sales and price points (JSON and CSV): validated, atomic, idempotent."""

from __future__ import annotations

import pytest

from tests.helpers import queued_jobs

URL = "/api/v1/admin/import"


def counts(db) -> dict[str, int]:
    tables = ("snapshots", "listing_snapshots", "sales", "price_points", "ingest_runs", "raw_payloads")
    return {t: db.execute(f"SELECT count(*) AS n FROM {t}").fetchone()["n"] for t in tables}


LISTINGS_CSV = """product,observed_at,listing_id,seller_id,unit_price,shipping,quantity
op-01-box,2026-03-01T10:00:00Z,a1,s1,120.00,5.00,2
op-01-box,2026-03-01T10:00:00Z,a2,s2,125.50,,1
op-01-box,2026-03-01T16:00:00Z,a1,s1,120.00,5.00,1
op-01-box,2026-03-01T16:00:00Z,a3,s3,118.00,0,1
{op02},2026-03-01T10:00:00Z,b1,s9,99.99,0,3
"""


def test_listings_csv_is_imported_once(client, admin, products, db, redis_db):
    body = LISTINGS_CSV.format(op02=products[1])
    response = client.post(f"{URL}/listings", data=body, content_type="text/csv", headers=admin)
    assert response.status_code == 201, response.get_json()
    result = response.get_json()
    assert result["written"] == {"snapshots": 3, "listing_snapshots": 5}
    assert result["pipeline_job"] is not None and len(queued_jobs(redis_db)) == 1
    # The two op-01 snapshots were paired: one unit of a1 went, a2 was delisted, a3 appeared.
    events = db.execute("SELECT event FROM listing_events ORDER BY listing_id").fetchall()
    assert sorted(e["event"] for e in events) == ["DELISTED", "LISTED", "QTY_DOWN"]
    run = db.execute("SELECT * FROM ingest_runs WHERE id = %s", [result["run_id"]]).fetchone()
    assert (run["kind"], run["marketplace"], run["status"]) == ("import-listings", "manual", "succeeded")
    assert db.execute("SELECT body FROM raw_payloads").fetchone()["body"] == {"raw": body}

    before = counts(db)
    again = client.post(f"{URL}/listings", data=body, content_type="text/csv", headers=admin).get_json()
    assert again["written"] == {"snapshots": 0, "listing_snapshots": 0}
    assert again["skipped"]["snapshots"] == 3
    after = counts(db)
    assert {k: v for k, v in after.items() if k not in {"ingest_runs", "raw_payloads"}} == {
        k: v for k, v in before.items() if k not in {"ingest_runs", "raw_payloads"}
    }


def test_sales_and_prices_as_json(client, admin, products, db):
    sales = [
        {"product": "op-01-box", "sold_at": "2026-03-01T12:00:00+00:00", "unit_price": 130, "quantity": 2},
        {"product": "op-01-box", "sold_at": "2026-03-01T13:00:00+00:00", "unit_price": "131.25", "sale_key": "ebay-1"},
    ]
    response = client.post(f"{URL}/sales?marketplace=ebay", json={"rows": sales}, headers=admin)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["written"] == {"sales": 2}
    assert client.post(f"{URL}/sales?marketplace=ebay", json={"rows": sales}, headers=admin).get_json()["skipped"] == {
        "sales": 2
    }
    stored = db.execute("SELECT sale_key, basis, marketplace FROM sales ORDER BY sold_at").fetchall()
    assert stored[0]["sale_key"].startswith("manual:") and stored[1]["sale_key"] == "ebay-1"
    assert {(s["basis"], s["marketplace"]) for s in stored} == {("reported", "ebay")}

    prices = [
        {"product": str(products[2]), "observed_at": "2026-03-01T00:00:00Z", "market_price": 210.5, "low_price": 199}
    ]
    response = client.post(f"{URL}/prices?marketplace=tcgplayer", json={"rows": prices}, headers=admin)
    assert response.status_code == 201 and response.get_json()["written"] == {"price_points": 1}


@pytest.mark.parametrize(
    ("kind", "rows", "where"),
    [
        ("sales", [{"product": "op-01-box", "sold_at": "2026-03-01T12:00:00", "unit_price": 1}], "sold_at"),  # naive
        ("sales", [{"product": "op-01-box", "sold_at": "2099-01-01T00:00:00Z", "unit_price": 1}], "sold_at"),
        ("sales", [{"product": "op-01-box", "sold_at": "2026-03-01T12:00:00Z", "unit_price": 0}], "unit_price"),
        ("sales", [{"product": "op-01-box", "sold_at": "2026-03-01T12:00:00Z", "unit_price": "NaN"}], "unit_price"),
        ("sales", [{"product": "no-such-box", "sold_at": "2026-03-01T12:00:00Z", "unit_price": 1}], "product"),
        ("sales", [{"product": "op-01-box", "sold_at": "2026-03-01T12:00:00Z", "unit_price": 1, "extra": 1}], "extra"),
        ("prices", [{"product": "op-01-box", "observed_at": "2026-03-01T00:00:00Z"}], "_schema"),
        ("listings", [{"product": "op-01-box", "observed_at": "2026-03-01T00:00:00Z", "unit_price": 5}], "listing_id"),
        ("listings", ["not an object"], "_schema"),
    ],
)
def test_one_bad_row_and_nothing_is_imported(client, admin, products, db, kind, rows, where):
    good = {
        "sales": {"product": "op-02-box", "sold_at": "2026-03-01T11:00:00Z", "unit_price": 100},
        "prices": {"product": "op-02-box", "observed_at": "2026-03-01T00:00:00Z", "market_price": 100},
        "listings": {"product": "op-02-box", "observed_at": "2026-03-01T00:00:00Z", "listing_id": "x", "unit_price": 9},
    }[kind]
    before = counts(db)
    response = client.post(f"{URL}/{kind}", json={"rows": [good, *rows]}, headers=admin)
    assert response.status_code == 422, response.get_json()
    assert where in response.get_json()["details"]["rows"]["2"], response.get_json()
    assert counts(db) == before


def test_duplicates_within_a_file_are_reported(client, admin, products, db):
    row = {"product": "op-01-box", "sold_at": "2026-03-01T12:00:00Z", "unit_price": 10, "sale_key": "k"}
    response = client.post(f"{URL}/sales", json={"rows": [row, row]}, headers=admin)
    assert response.status_code == 422
    assert response.get_json()["details"]["rows"]["2"] == {"_schema": ["repeats row 1"]}


def test_malformed_files(client, admin, products, db):
    before = counts(db)
    post = client.post
    assert post(f"{URL}/sales", data="", content_type="text/csv", headers=admin).status_code == 422
    ragged = "product,sold_at,unit_price\nop-01-box,2026-03-01T12:00:00Z,10,surprise\n"
    assert post(f"{URL}/sales", data=ragged, content_type="text/csv", headers=admin).status_code == 422
    bad_csv = "product,sold_at,unit_price\nop-01-box,yesterday,10\n"
    response = post(f"{URL}/sales", data=bad_csv, content_type="text/csv", headers=admin)
    assert response.status_code == 422 and "sold_at" in response.get_json()["details"]["rows"]["2"]
    assert post(f"{URL}/sales", data=b"\xff\xfe", content_type="text/csv", headers=admin).status_code == 400
    assert post(f"{URL}/sales", data="{", content_type="application/json", headers=admin).status_code == 400
    assert post(f"{URL}/sales", json={"rows": []}, headers=admin).status_code == 422
    assert post(f"{URL}/sales", json={"rows": [], "more": 1}, headers=admin).status_code == 422
    assert post(f"{URL}/sales", data="x", content_type="text/plain", headers=admin).status_code == 415
    assert post(f"{URL}/sales?marketplace=nowhere", json={"rows": [{}]}, headers=admin).status_code == 422
    assert post(f"{URL}/sales?marketplace=Bad!", json={"rows": [{}]}, headers=admin).status_code == 422
    assert post(f"{URL}/trades", json={"rows": [{}]}, headers=admin).status_code == 404
    huge = "product,sold_at,unit_price\n" + "op-01-box,2026-03-01T12:00:00Z,10\n" * 700_000
    assert post(f"{URL}/sales", data=huge, content_type="text/csv", headers=admin).status_code == 413
    assert counts(db) == before


def test_users_cannot_import(client, user, products, db):
    response = client.post(f"{URL}/sales", data=LISTINGS_CSV, content_type="text/csv", headers=user)
    assert response.status_code == 403
    assert counts(db)["ingest_runs"] == 0
