"""Box images: served by the service at GET /api/v1/products/{id}/image (ETag, 304, long-lived caching at
the versioned address), pointed at by `image_url` in every product row, and an admin's override."""

from __future__ import annotations

from dataclasses import replace

import pytest
from rq import Queue

from jobs import images as image_jobs
from jobs.marketplaces import tcgplayer
from service.core import cache, images
from tests.fakes import fixtures
from tests.fakes.marketplaces import png
from tests.helpers import bearer, new_account, snapshot

fake_market = fixtures.fake_market
marketplace_env = fixtures.marketplace_env

PNG = png((200, 30, 30))


def _store(db, product_id: int, body: bytes = PNG) -> str:
    """An image stored for the product, as the download job leaves it."""
    sha256 = images.digest(body)
    db.execute(
        "INSERT INTO images (sha256, content_type, data) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
        [sha256, images.sniff(body), body],
    )
    db.execute("UPDATE products SET image_sha256 = %s WHERE id = %s", [sha256, product_id])
    return sha256


def _image_downloads_queued(redis_db) -> list[str]:
    """The image download jobs on the default queue (registering an account queues other jobs)."""
    return [j for j in Queue("default", connection=redis_db).job_ids if j.startswith("image-")]


def _image_url(db, product_id: int) -> str | None:
    return db.execute("SELECT image_url FROM products WHERE id = %s", [product_id]).fetchone()["image_url"]


def test_the_versioned_address_serves_the_image_for_good_with_a_strong_etag(client, db, products):
    sha256 = _store(db, products[0])
    url = _image_url(db, products[0])
    assert url == f"/api/v1/products/{products[0]}/image?v={sha256[:16]}"
    response = client.get(url)
    assert response.status_code == 200 and response.data == PNG and response.mimetype == "image/png"
    assert response.headers["ETag"] == f'"{sha256}"'
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"

    # By slug, or with an old version: the answer may change, so it is kept an hour.
    for other in ("/api/v1/products/op-01-box/image", f"/api/v1/products/{products[0]}/image?v=0123456789abcdef"):
        again = client.get(other)
        assert again.data == PNG and again.headers["Cache-Control"] == "public, max-age=3600"


@pytest.mark.parametrize("tag", ['"{sha}"', 'W/"{sha}"', '"other", "{sha}"', "*"])
def test_a_client_holding_the_image_gets_304_without_it(client, db, products, tag):
    sha256 = _store(db, products[0])
    response = client.get(_image_url(db, products[0]), headers={"If-None-Match": tag.format(sha=sha256)})
    assert response.status_code == 304 and response.data == b""
    assert response.headers["ETag"] == f'"{sha256}"'
    assert client.get(_image_url(db, products[0]), headers={"If-None-Match": '"other"'}).status_code == 200


def test_no_image_no_product_and_bad_requests(client, db, products):
    response = client.get(f"/api/v1/products/{products[0]}/image")
    assert response.status_code == 404 and response.get_json()["message"] == f"No image for product {products[0]} yet."
    assert client.get("/api/v1/products/999999/image").status_code == 404
    assert client.get("/api/v1/products/Not_A_Ref/image").status_code == 400
    _store(db, products[0])
    assert client.get(f"/api/v1/products/{products[0]}/image?size=big").status_code == 422
    assert client.get(f"/api/v1/products/{products[0]}/image?v=XYZ").status_code == 422


def test_every_product_row_points_at_the_stored_image_and_null_without_one(client, db, market, redis_db):
    signed_in = bearer(new_account(client, "ann@example.com")["access_token"])
    for product in market:
        client.post("/api/v1/me/watchlist", json={"product": str(product)}, headers=signed_in)

    def image_urls() -> dict[str, dict[int, str | None]]:
        leaderboard = client.get("/api/v1/leaderboard").get_json()["data"]
        listed = client.get("/api/v1/products").get_json()["data"]
        watchlist = client.get("/api/v1/me/watchlist", headers=signed_in).get_json()["data"]
        movers = client.get("/api/v1/movers?period=1d").get_json()["data"]  # gainers, then losers
        return {
            "leaderboard": {r["product"]["id"]: r["product"]["image_url"] for r in leaderboard},
            "products": {r["id"]: r["image_url"] for r in listed},
            "detail": {p: client.get(f"/api/v1/products/{p}").get_json()["product"]["image_url"] for p in market},
            "watchlist": {r["product"]["id"]: r["product"]["image_url"] for r in watchlist},
            "movers": {r["product"]["id"]: r["product"]["image_url"] for r in movers},
        }

    before = image_urls()
    assert before["movers"], "the simulated market has movers"
    assert all(url is None for rows in before.values() for url in rows.values())

    _store(db, market[0])
    _store(db, market[1], png((1, 1, 1)))
    _store(db, market[2], png((2, 2, 2)))
    cache.bump_data_version(redis_db)  # as the download job does
    expected = {p: _image_url(db, p) for p in market}
    after = image_urls()
    for where, rows in after.items():
        assert rows == {p: expected[p] for p in rows}, where
        assert len(rows) == len(before[where])
    assert client.get(expected[market[0]]).data == PNG


@pytest.fixture
def private_hosts(app, monkeypatch, marketplace_env):
    """The fake image host is http on loopback: allowed for the API and the jobs, as in a private
    deployment."""
    monkeypatch.setitem(app.config, "SETTINGS", replace(app.config["SETTINGS"], image_allow_private=True))
    monkeypatch.setenv("IMAGE_ALLOW_PRIVATE", "true")


def test_a_cached_answer_shows_the_image_as_soon_as_it_lands(client, db, products, fake_market, private_hosts):
    def listed() -> dict[int, str | None]:
        return {r["id"]: r["image_url"] for r in client.get("/api/v1/products").get_json()["data"]}

    images.record_sources(db, {products[0]: fake_market.image_url(fake_market.products[0])})
    assert listed() == dict.fromkeys(products)
    assert client.get("/api/v1/products").headers["X-Cache"] == "HIT"
    assert image_jobs.download_image(products[0])["status"] == "stored"
    assert listed() == {**dict.fromkeys(products), products[0]: _image_url(db, products[0])}


def test_an_admins_image_wins_over_the_marketplaces_and_later_fetches_leave_it(
    client, admin, db, products, fake_market, redis_db, private_hosts
):
    tcgplayer.fetch_mirror_prices()
    marketplace_url = fake_market.image_url(fake_market.products[0])
    override = fake_market.base_url + "/cdn/admin/op-01.png"
    fake_market.images["/cdn/admin/op-01.png"] = (png((9, 9, 9)), "image/png")
    Queue("default", connection=redis_db).empty()

    response = client.patch("/api/v1/admin/products/op-01-box", json={"image_override_url": override}, headers=admin)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["image_override_url"], body["image_source_url"], body["image_url"]) == (
        override,
        marketplace_url,
        None,
    )
    assert _image_downloads_queued(redis_db) == [images.job_id(products[0])]  # its download is queued
    assert image_jobs.download_image(products[0])["status"] == "stored"
    assert client.get(f"/api/v1/products/{products[0]}/image").data == png((9, 9, 9))

    tcgplayer.fetch_mirror_prices(force=True)  # the marketplace says its URL again: the override stays
    assert image_jobs.download_image(products[0])["status"] == "stored already"
    shown = client.get("/api/v1/admin/products/op-01-box", headers=admin).get_json()
    assert (shown["image_override_url"], shown["image_source_url"]) == (override, marketplace_url)
    assert client.get(shown["image_url"]).data == png((9, 9, 9))

    # Null hands the image back to the marketplace.
    client.patch("/api/v1/admin/products/op-01-box", json={"image_override_url": None}, headers=admin)
    image_jobs.download_image(products[0])
    assert (
        client.get(f"/api/v1/products/{products[0]}/image").data
        == fake_market.images["/cdn/product/" + fake_market.products[0].tcgplayer_id + "_200w.png"][0]
    )


def test_a_failed_download_is_shown_to_admins(client, admin, db, products, fake_market, private_hosts):
    missing = fake_market.base_url + "/cdn/admin/missing.png"
    client.patch("/api/v1/admin/products/op-01-box", json={"image_override_url": missing}, headers=admin)
    image_jobs.download_image(products[0])
    shown = client.get("/api/v1/admin/products/op-01-box", headers=admin).get_json()
    assert (shown["image_url"], shown["image_error"]) == (None, "refused: the image host answered HTTP 404")


BAD_URLS = [
    "http://images.example.com/box.png",  # not https
    "ftp://images.example.com/box.png",
    "https://127.0.0.1/box.png",  # loopback
    "https://10.1.2.3/box.png",  # private
    "https://169.254.169.254/latest/meta-data",  # link-local (cloud metadata)
    "https://[::1]/box.png",
    "https://[::ffff:192.168.0.1]/box.png",  # a private IPv4 inside IPv6
    "https://localhost/box.png",
    "https://storage.internal/box.png",
    "https://user:secret@images.example.com/box.png",  # credentials
    "not a url",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_an_override_that_is_not_public_https_is_refused_and_changes_nothing(
    client, admin, db, products, redis_db, url
):
    before = snapshot(db, ["products", "images", "image_downloads"])
    response = client.patch("/api/v1/admin/products/op-01-box", json={"image_override_url": url}, headers=admin)
    assert response.status_code == 422, response.get_json()
    assert "image_override_url" in response.get_json()["details"]["json"]
    created = client.post(
        "/api/v1/admin/products",
        json={"game": "one-piece", "name": "OP-99 Box", "product_type": "booster_box", "image_override_url": url},
        headers=admin,
    )
    assert created.status_code == 422
    assert snapshot(db, ["products", "images", "image_downloads"]) == before
    assert _image_downloads_queued(redis_db) == []


def test_a_public_https_override_is_taken(client, admin, db, products, redis_db):
    url = "https://images.example.com/op-01.webp"
    response = client.patch("/api/v1/admin/products/op-01-box", json={"image_override_url": url}, headers=admin)
    assert response.status_code == 200 and response.get_json()["image_override_url"] == url
    assert _image_downloads_queued(redis_db) == [images.job_id(products[0])]
