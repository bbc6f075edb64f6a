"""TCGplayer official API and the tcgcsv mirror against the fake servers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from rq import Queue

from jobs.marketplaces import tcgplayer, tcgplayer_api
from jobs.marketplaces.http import CallRecorder
from service.core import images
from service.core.settings import Env
from tests.fakes import fixtures
from tests.fakes.marketplaces import Fault, image_path

fake_market = fixtures.fake_market
marketplace_env = fixtures.marketplace_env


def _points(db):
    rows = db.execute(
        "SELECT product_id, observed_at, market_price, low_price, mid_price, high_price, direct_low_price"
        " FROM price_points WHERE marketplace = 'tcgplayer' ORDER BY product_id"
    ).fetchall()
    return rows


def _expected(fake, product):
    (row,) = fake.tcg_prices(product)
    return {
        "market_price": Decimal(str(row["marketPrice"])),
        "low_price": Decimal(str(row["lowPrice"])),
        "mid_price": Decimal(str(row["midPrice"])),
        "high_price": Decimal(str(row["highPrice"])),
        "direct_low_price": None,  # null stays null, not 0
    }


def test_official_prices_become_price_points(db, products, fake_market, marketplace_env):
    result = tcgplayer.fetch_prices()
    points = _points(db)
    assert [p["product_id"] for p in points] == products
    for point, product in zip(points, fake_market.products, strict=True):
        assert {k: v for k, v in point.items() if k not in ("product_id", "observed_at")} == _expected(
            fake_market, product
        )
    assert len({p["observed_at"] for p in points}) == 1
    run = db.execute("SELECT kind, marketplace, status, rows_written FROM ingest_runs").fetchone()
    assert run == {
        "kind": "fetch-tcgplayer-prices",
        "marketplace": "tcgplayer",
        "status": "succeeded",
        "rows_written": {"price_points": 3},
    }
    assert result["http_calls"] == 2  # one token, one pricing call for all three products


def test_pricing_goes_in_batches_of_at_most_250_ids():
    ids = [str(i) for i in range(600)]
    assert [len(b) for b in tcgplayer_api.batches(ids)] == [250, 250, 100]


@pytest.mark.clock
def test_results_with_errors_keep_the_data_and_unknown_rows_are_ignored():
    rows = tcgplayer_api.results(
        {"success": True, "errors": ["Invalid productId: 9"], "results": [{"productId": 1, "marketPrice": 10}]}
    )
    now = datetime.now(UTC)
    points, rejected = tcgplayer_api.price_points(
        [*rows, {"productId": 2, "marketPrice": None, "lowPrice": None}, {"productId": 77, "marketPrice": 3}],
        {"1": 10, "2": 20},
        now,
    )
    assert [(p.product_id, p.market_price) for p in points] == [(10, Decimal(10))]
    assert rejected == {"no_prices": 1}


@pytest.mark.clock
def test_the_normal_printing_is_preferred():
    rows = [
        {"productId": 1, "marketPrice": 50, "subTypeName": "Holofoil"},
        {"productId": 1, "marketPrice": 10, "subTypeName": "Normal"},
    ]
    points, _ = tcgplayer_api.price_points(rows, {"1": 7}, datetime.now(UTC))
    assert points[0].market_price == Decimal(10)


def test_catalog_look_up_maps_products(db, products, fake_market, marketplace_env, redis_db):
    config = tcgplayer_api.TcgplayerConfig.read(Env.load())
    api = tcgplayer_api.TcgplayerApi(config, redis_db, CallRecorder(None, None, "tcgplayer"))
    found = api.search_sealed(68, "OP-02")
    assert [r["productId"] for r in found] == [450002]
    details = api.products(["450001", "450003"])
    assert [(r["productId"], r["groupId"]) for r in details] == [(450001, 23000), (450003, 23001)]
    assert api.search_sealed(68, "no such box") == []  # TCGplayer's 404 "No products were found." is no data


def test_the_mirror_fetches_groups_once_per_update(db, products, fake_market, marketplace_env):
    result = tcgplayer.fetch_mirror_prices()
    points = _points(db)
    assert [p["product_id"] for p in points] == products  # not the untracked product in the same group
    assert {p["observed_at"] for p in points} == {fake_market.last_updated}
    assert result["written"] == {"price_points": 3, "image_source_urls": 3}
    paths = [c.path for c in fake_market.requests]
    assert paths[0] == "/tcgcsv/last-updated.txt"
    assert "/tcgcsv/tcgplayer/68/groups" in paths and "/tcgcsv/tcgplayer/3/groups" in paths
    assert sorted(p for p in paths if p.endswith("/prices")) == [
        "/tcgcsv/tcgplayer/68/23000/prices",
        "/tcgcsv/tcgplayer/68/23001/prices",
    ]
    assert all(c.headers["User-Agent"] == "BoosterBoxPro-tests/1.0 (ops@example.com)" for c in fake_market.requests)

    calls = len(fake_market.requests)
    again = tcgplayer.fetch_mirror_prices()  # the mirror has not moved: one call, nothing written
    assert len(fake_market.requests) == calls + 1 and again["note"].startswith("mirror unchanged")
    forced = tcgplayer.fetch_mirror_prices(force=True)  # same stamp: idempotent
    assert forced["written"] == {"price_points": 0} and forced["skipped"] == {"price_points": 3}
    assert len(_points(db)) == 3


def test_last_updated_format():
    stamp = tcgplayer_api.parse_last_updated("2026-06-30T20:05:27+0000\n")
    assert stamp == datetime(2026, 6, 30, 20, 5, 27, tzinfo=UTC)


def test_the_catalog_look_up_maps_unmapped_products_by_exact_name(db, products, fake_market, marketplace_env):
    db.execute("DELETE FROM product_sources WHERE marketplace = 'tcgplayer' AND product_id <> %s", [products[2]])
    db.execute("UPDATE products SET name = 'OP-0' WHERE id = %s", [products[1]])  # matches two by substring
    result = tcgplayer.map_products()
    assert result["written"] == {"product_sources": 1, "image_source_urls": 2}  # the mapped one's and products[2]'s
    assert result["rejected"] == {"no_match": 1}  # 'OP-0' is not exactly any product's name
    mapped = db.execute(
        "SELECT product_id, external_id FROM product_sources WHERE marketplace = 'tcgplayer' ORDER BY product_id"
    ).fetchall()
    assert [(m["product_id"], m["external_id"]) for m in mapped] == [(products[0], "450001"), (products[2], "450003")]
    assert tcgplayer.map_products()["written"] == {}  # nothing left to map


def _image_jobs(redis_db) -> list[str]:
    return sorted(j for j in Queue("default", connection=redis_db).job_ids if j.startswith("image-"))


def _image_columns(db):
    return db.execute("SELECT id, image_source_url, image_override_url FROM products ORDER BY id").fetchall()


def test_the_mirror_keeps_our_products_image_urls_and_queues_their_downloads(
    db, products, fake_market, marketplace_env, redis_db
):
    override = "https://images.example.com/op-02.png"
    db.execute("UPDATE products SET image_override_url = %s WHERE id = %s", [override, products[1]])
    tcgplayer.fetch_mirror_prices()
    # Only the product lists of the groups that hold products of ours are fetched.
    assert sorted(c.path for c in fake_market.requests if c.path.endswith("/products")) == [
        "/tcgcsv/tcgplayer/68/23000/products",
        "/tcgcsv/tcgplayer/68/23001/products",
    ]
    expected = [fake_market.image_url(p) for p in fake_market.products]
    assert [(r["image_source_url"], r["image_override_url"]) for r in _image_columns(db)] == [
        (expected[0], None),
        (expected[1], override),  # the admin's choice stays; the marketplace's URL is kept beside it
        (expected[2], None),
    ]
    # The overridden product's wanted image did not change: no download for it.
    assert _image_jobs(redis_db) == sorted(images.job_id(p) for p in (products[0], products[2]))


def test_the_mirror_records_a_changed_image_url_only(db, products, fake_market, marketplace_env, redis_db):
    tcgplayer.fetch_mirror_prices()
    Queue("default", connection=redis_db).empty()
    moved = fake_market.products[0]
    fake_market.images["/cdn/product/moved.png"] = fake_market.images.pop(image_path(moved.tcgplayer_id))
    fake_market.image_url = lambda p: (
        fake_market.base_url
        + (  # type: ignore[method-assign]
            "/cdn/product/moved.png" if p is moved else image_path(p.tcgplayer_id)
        )
    )
    result = tcgplayer.fetch_mirror_prices(force=True)
    assert result["written"]["image_source_urls"] == 1
    assert _image_columns(db)[0]["image_source_url"] == fake_market.base_url + "/cdn/product/moved.png"
    assert _image_jobs(redis_db) == [images.job_id(products[0])]


def test_a_failed_product_list_leaves_the_prices_standing(db, products, fake_market, marketplace_env):
    fake_market.faults.append(Fault("/products", status=500, times=100))
    result = tcgplayer.fetch_mirror_prices()
    assert result["status"] == "succeeded" and result["written"] == {"price_points": 3}
    assert result["rejected"] == {"product_list_not_fetched": 2}
    assert [r["image_source_url"] for r in _image_columns(db)] == [None, None, None]


def test_the_mapping_job_keeps_the_image_urls_of_new_and_earlier_mappings(
    db, products, fake_market, marketplace_env, redis_db
):
    db.execute("DELETE FROM product_sources WHERE marketplace = 'tcgplayer' AND product_id = %s", [products[0]])
    db.execute("UPDATE product_sources SET active = false WHERE product_id = %s", [products[2]])
    result = tcgplayer.map_products()
    # products[0] by its look-up, products[1] (mapped by the catalog CSV, say) by its catalog details;
    # a deactivated source is not asked about.
    assert result["written"] == {"product_sources": 1, "image_source_urls": 2}
    expected = [fake_market.image_url(p) for p in fake_market.products]
    assert [r["image_source_url"] for r in _image_columns(db)] == [expected[0], expected[1], None]
    assert _image_jobs(redis_db) == sorted(images.job_id(p) for p in products[:2])
    details = [c for c in fake_market.requests if c.path.startswith("/tcgplayer/v1.39.0/catalog/products/")]
    assert [c.path for c in details] == ["/tcgplayer/v1.39.0/catalog/products/450002"]
    assert tcgplayer.map_products()["written"] == {}  # nothing left to map or to look up
