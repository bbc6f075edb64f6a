"""Box image downloads (jobs/images.py) from the fake TCGplayer image host, over real sockets, into the
test database: stored once, refused for good reasons, retried for passing ones."""

from __future__ import annotations

import socket
import threading
import time

import psycopg
import pytest
from rq import Queue, Retry, SimpleWorker

from jobs import images as image_jobs
from service.core import cache, images
from tests.fakes import fixtures
from tests.fakes.marketplaces import Fault, image_path, png

fake_market = fixtures.fake_market
marketplace_env = fixtures.marketplace_env

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.fixture
def image_env(marketplace_env, monkeypatch):
    """The fake image host is plain http on loopback: allowed here, as in a private deployment."""
    monkeypatch.setenv("IMAGE_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("IMAGE_TIMEOUT_S", "0.5")
    return marketplace_env


def _source(db, fake_market, index: int = 0) -> tuple[int, str]:
    """Product `index` with the marketplace's image URL recorded, as a fetch leaves it."""
    product = fake_market.products[index]
    url = fake_market.image_url(product)
    assert images.record_sources(db, {product.product_id: url}) == [product.product_id]
    return product.product_id, url


def _state(db, product_id: int) -> dict:
    return db.execute(
        """SELECT p.image_url, p.image_sha256, d.url, d.error, (SELECT count(*) FROM images) AS stored
           FROM products p LEFT JOIN image_downloads d ON d.product_id = p.id WHERE p.id = %s""",
        [product_id],
    ).fetchone()


def test_an_image_is_downloaded_once_and_served_from_a_versioned_address(db, fake_market, image_env, redis_db):
    product_id, url = _source(db, fake_market)
    body = fake_market.images[image_path(fake_market.products[0].tcgplayer_id)][0]
    result = image_jobs.download_image(product_id)
    assert result["status"] == "stored" and result["bytes"] == len(body)
    state = _state(db, product_id)
    assert state["image_sha256"] == images.digest(body)
    assert state["image_url"] == f"/api/v1/products/{product_id}/image?v={images.digest(body)[:16]}"
    assert (state["url"], state["error"], state["stored"]) == (url, None, 1)
    row = db.execute("SELECT content_type, data FROM images").fetchone()
    assert (row["content_type"], bytes(row["data"])) == ("image/png", body)
    assert int(redis_db.get(cache.DATA_VERSION_KEY)) == 1  # cached answers embed image_url

    # Again (a duplicate job, a retry after the commit): nothing fetched, nothing written, no new version.
    assert image_jobs.download_image(product_id)["status"] == "stored already"
    assert len(fake_market.calls("/cdn/")) == 1
    assert _state(db, product_id) == state and int(redis_db.get(cache.DATA_VERSION_KEY)) == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (None, "refused: the image host answered HTTP 404"),
        (b"\xff\xd8\xff" + b"\0" * (2 * 1024 * 1024), "refused: the image is larger than 2097152 bytes (2097155)"),
        (SVG, "refused: the body is not a JPEG, PNG or WebP image"),
        (b"<html><body>Sorry</body></html>", "refused: the body is not a JPEG, PNG or WebP image"),
    ],
    ids=["404", "too-large", "svg", "html"],
)
def test_what_is_not_a_small_jpeg_png_or_webp_is_refused_and_recorded(db, fake_market, image_env, body, reason):
    product_id, url = _source(db, fake_market)
    path = image_path(fake_market.products[0].tcgplayer_id)
    if body is None:
        del fake_market.images[path]
    else:
        fake_market.images[path] = (body, "image/jpeg" if body.startswith(b"\xff") else "image/svg+xml")
    result = image_jobs.download_image(product_id)  # a refusal is final: no exception, no RQ retry
    assert (result["status"], result["error"]) == ("failed", reason)
    state = _state(db, product_id)
    assert (state["image_url"], state["image_sha256"], state["stored"]) == (None, None, 0)
    assert (state["url"], state["error"]) == (url, reason)


def test_a_host_that_declares_no_length_is_cut_off_at_the_limit(db, fake_market, image_env, monkeypatch):
    monkeypatch.setenv("IMAGE_MAX_BYTES", "4096")
    product_id, _ = _source(db, fake_market)
    # No Content-Length to judge by: the limit counts the bytes as they arrive.
    fake_market.faults.append(Fault("/cdn/", 200, b"\x89PNG\r\n\x1a\n" + b"\0" * 10_000, unsized=True))
    result = image_jobs.download_image(product_id)
    assert result["error"] == "refused: the image is larger than 4096 bytes"


def test_a_slow_host_is_retried_by_rq_and_the_retry_stores_the_image_once(db, fake_market, image_env, redis_db):
    product_id, _ = _source(db, fake_market)
    fake_market.faults.append(Fault("/cdn/", status=200, delay_s=1.5))  # longer than IMAGE_TIMEOUT_S (0.5 s)
    queue = Queue("images-test", connection=redis_db)
    job = queue.enqueue(images.JOB, product_id, retry=Retry(max=2))
    SimpleWorker([queue], connection=redis_db).work(burst=True)
    job.refresh()
    assert job.is_finished and job.return_value()["status"] == "stored"
    assert len(fake_market.calls("/cdn/")) == 2  # the timed-out attempt, then the retry
    state = _state(db, product_id)
    assert state["error"] is None and state["stored"] == 1 and state["image_url"] is not None


def test_the_last_attempt_records_a_passing_failure_without_raising(db, fake_market, image_env):
    product_id, _ = _source(db, fake_market)
    fake_market.faults.append(Fault("/cdn/", status=503, times=5))
    result = image_jobs.download_image(product_id)  # called directly: no retry follows
    assert result["error"] == "unavailable: the image host answered HTTP 503"
    assert _state(db, product_id)["error"] == result["error"]


def test_a_new_url_is_downloaded_again_and_the_old_image_goes(db, fake_market, image_env, redis_db):
    product_id, _ = _source(db, fake_market)
    image_jobs.download_image(product_id)
    first = _state(db, product_id)
    new_path = "/cdn/product/new_200w.png"
    fake_market.images[new_path] = (png((1, 2, 3)), "image/png")
    assert images.record_sources(db, {product_id: fake_market.base_url + new_path}) == [product_id]
    assert images.record_sources(db, {product_id: fake_market.base_url + new_path}) == []  # unchanged: no download
    assert image_jobs.download_image(product_id)["status"] == "stored"
    second = _state(db, product_id)
    assert second["image_sha256"] == images.digest(png((1, 2, 3))) and second["image_url"] != first["image_url"]
    assert second["stored"] == 1  # the image no product shows any more was deleted
    assert int(redis_db.get(cache.DATA_VERSION_KEY)) == 2


def test_a_url_changed_during_the_download_is_followed(db, fake_market, image_env, monkeypatch, settings):
    monkeypatch.setenv("IMAGE_TIMEOUT_S", "5")
    product_id, _ = _source(db, fake_market)
    fake_market.images["/cdn/admin.png"] = (png((5, 5, 5)), "image/png")
    fake_market.faults.append(Fault("/cdn/product/", 200, delay_s=1.0))  # the first download is slow...

    def admin_changes_the_url() -> None:  # ...and an admin sets an override while it runs
        time.sleep(0.3)
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(
                "UPDATE products SET image_override_url = %s WHERE id = %s",
                [fake_market.base_url + "/cdn/admin.png", product_id],
            )

    admin = threading.Thread(target=admin_changes_the_url)
    admin.start()
    result = image_jobs.download_image(product_id)
    admin.join()
    assert result["status"] == "stored" and result["sha256"] == images.digest(png((5, 5, 5)))
    assert [c.path.split("/")[-1] for c in fake_market.calls("/cdn/")][-1] == "admin.png"
    assert _state(db, product_id)["stored"] == 1  # the first download's image was not kept


def test_the_same_image_for_two_products_is_stored_once(db, fake_market, image_env):
    first, url = _source(db, fake_market, 0)
    second = fake_market.products[1].product_id
    images.record_sources(db, {second: url})
    image_jobs.download_image(first)
    image_jobs.download_image(second)
    assert _state(db, first)["image_sha256"] == _state(db, second)["image_sha256"]
    assert _state(db, first)["stored"] == 1


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://images.example.com/box.png", "refused: the URL must start with https://"),
        ("https://127.0.0.1/box.png", "refused: the URL's host is not a public address"),
        ("https://[::ffff:10.0.0.1]/box.png", "refused: the URL's host is not a public address"),
        ("https://metadata.internal/box.png", "refused: the URL's host is not public"),
    ],
)
def test_without_the_private_switch_only_public_https_hosts_are_called(
    db, products, settings, monkeypatch, url, reason
):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    images.record_sources(db, {products[0]: url})
    assert image_jobs.download_image(products[0])["error"] == reason


def test_a_name_that_resolves_to_a_private_address_is_refused(db, products, settings, monkeypatch):
    # The resolver is the outside world here: a hostile name server pointing a public name inward.
    answers = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 443))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: answers)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    images.record_sources(db, {products[0]: "https://cdn.example.com/box.png"})
    result = image_jobs.download_image(products[0])
    assert result["error"] == "refused: cdn.example.com resolves to a non-public address"


def test_redirects_are_followed_a_few_times_only(db, fake_market, image_env):
    product_id, _ = _source(db, fake_market)
    path = image_path(fake_market.products[0].tcgplayer_id)
    fake_market.images["/cdn/moved.png"] = fake_market.images[path]
    fake_market.faults.append(Fault(path, 302, b"", headers={"Location": "/cdn/moved.png"}))
    assert image_jobs.download_image(product_id)["status"] == "stored"
    assert [c.path for c in fake_market.calls("/cdn/")] == [path, "/cdn/moved.png"]

    other, _ = _source(db, fake_market, 1)
    fake_market.faults.append(Fault("/cdn/", 302, b"", headers={"Location": "/cdn/again.png"}, times=10))
    assert image_jobs.download_image(other)["error"] == "refused: more than 3 redirects"


def test_the_sweep_queues_what_needs_a_download_and_nothing_else(db, fake_market, image_env, redis_db):
    stored, _ = _source(db, fake_market, 0)
    refused, _ = _source(db, fake_market, 1)
    waiting, _ = _source(db, fake_market, 2)
    image_jobs.download_image(stored)
    del fake_market.images[image_path(fake_market.products[1].tcgplayer_id)]
    image_jobs.download_image(refused)
    assert image_jobs.sync_images() == {"pending": 1, "queued": 1}  # a refusal waits a day
    assert image_jobs.sync_images() == {"pending": 1, "queued": 0}  # its job is queued already
    assert [j for j in Queue("default", connection=redis_db).job_ids if j.startswith("image-")] == [
        images.job_id(waiting)
    ]
    db.execute("UPDATE image_downloads SET attempted_at = now() - interval '25 hours' WHERE product_id = %s", [refused])
    assert image_jobs.sync_images()["pending"] == 2


def test_an_image_no_url_wants_any_more_is_taken_down(db, fake_market, image_env, redis_db):
    product_id, _ = _source(db, fake_market)
    image_jobs.download_image(product_id)
    db.execute("UPDATE products SET image_source_url = NULL WHERE id = %s", [product_id])
    assert image_jobs.sync_images()["pending"] == 1
    image_jobs.download_image(product_id)
    assert _state(db, product_id)["image_url"] is None and _state(db, product_id)["stored"] == 0
    assert image_jobs.sync_images()["pending"] == 0
