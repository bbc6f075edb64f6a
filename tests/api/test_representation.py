"""Representations over HTTP: gzip when asked (stored compressed in the response cache, compressed on
the fly otherwise), ETags on every read with weak comparison, Vary, and Cache-Control by rule."""

from __future__ import annotations

import gzip
import json

import pytest

from service.api.representation import GZIP_MIN_BYTES
from tests.helpers import PASSWORD, register, sign_in

GZIP = {"Accept-Encoding": "gzip, deflate, br"}
CACHED_READS = (
    "/api/v1/leaderboard?limit=50",
    "/api/v1/movers",
    "/api/v1/market/index",
    "/api/v1/products/op-01-box",
)


def stored_entries(redis_db) -> dict[bytes, bytes]:
    return {key: redis_db.get(key) for key in redis_db.keys("boxpro:resp:*")}


@pytest.mark.parametrize("path", CACHED_READS)
def test_cached_reads_are_compressed_once_when_stored_and_served_as_stored(client, market, redis_db, path):
    plain = client.get(path)
    assert (plain.status_code, plain.headers["X-Cache"]) == (200, "MISS")
    assert "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]
    # The miss stored both representations: the plain one and the gzip one, compressed there and then.
    entries = stored_entries(redis_db)
    assert len(entries) == 2
    packed = client.get(path, headers=GZIP)
    if len(plain.get_data()) < GZIP_MIN_BYTES:  # the three-product market's movers and index: too small
        assert packed.headers["X-Cache"] == "HIT" and "Content-Encoding" not in packed.headers
        assert packed.get_data() == plain.get_data() and packed.headers["ETag"] == plain.headers["ETag"]
        return
    assert (packed.headers["X-Cache"], packed.headers["Content-Encoding"]) == ("HIT", "gzip")
    assert "Accept-Encoding" in packed.headers["Vary"]
    body = packed.get_data()
    assert any(entry.endswith(body) for entry in entries.values())  # the stored bytes, not compressed again
    assert gzip.decompress(body) == plain.get_data()  # compressed once: one decompression gives the JSON
    assert int(packed.headers["Content-Length"]) == len(body) < len(plain.get_data())
    # RFC 9110: the two representations have different entity tags.
    assert packed.headers["ETag"] != plain.headers["ETag"]
    again = client.get(path)
    assert (again.headers["X-Cache"], again.get_data()) == ("HIT", plain.get_data())
    assert again.headers["ETag"] == plain.headers["ETag"]


def test_a_new_data_version_replaces_the_entries_instead_of_piling_up(client, market, redis_db):
    assert client.get("/api/v1/leaderboard").headers["X-Cache"] == "MISS"
    before = set(stored_entries(redis_db))
    redis_db.incr("boxpro:data_version")  # what the pipeline does when new metrics land
    assert client.get("/api/v1/leaderboard").headers["X-Cache"] == "MISS"  # the old entry is not served
    assert set(stored_entries(redis_db)) == before  # the same two keys, rewritten
    assert client.get("/api/v1/leaderboard").headers["X-Cache"] == "HIT"


def test_entries_of_the_previous_layout_are_never_read(client, market, redis_db):
    """During a deploy, processes of the previous version still store entries of their layout (v2: no
    route) under their keys: this version must not trip over them."""
    redis_db.set("boxpro:data_version", 7)
    redis_db.set("boxpro:resp:v2:application/json:/api/v1/leaderboard?", b"7\t0123\tapplication/json\t\tAccept\n{}")
    response = client.get("/api/v1/leaderboard")
    assert (response.status_code, response.headers["X-Cache"]) == (200, "MISS")


def test_a_gzip_client_first_fills_the_cache_with_both_representations(client, market, redis_db):
    first = client.get("/api/v1/leaderboard", headers=GZIP)
    assert (first.headers["X-Cache"], first.headers["Content-Encoding"]) == ("MISS", "gzip")
    plain = client.get("/api/v1/leaderboard")
    assert plain.headers["X-Cache"] == "HIT" and "Content-Encoding" not in plain.headers
    assert len(plain.get_data()) >= GZIP_MIN_BYTES
    assert gzip.decompress(first.get_data()) == plain.get_data()


@pytest.mark.parametrize("header", ["", "identity", "gzip;q=0", "br", "deflate, br;q=0.5"])
def test_clients_that_do_not_accept_gzip_get_the_plain_bytes(client, market, header):
    for _ in range(2):  # the miss, then the hit
        response = client.get("/api/v1/leaderboard", headers={"Accept-Encoding": header})
        assert "Content-Encoding" not in response.headers
        assert response.get_json()["data"]


@pytest.mark.parametrize("header", ["gzip", "GZIP;q=0.5, br", "*", "x-gzip", "br;q=1, gzip;q=0.1"])
def test_clients_that_accept_gzip_get_it(client, market, header):
    for _ in range(2):
        response = client.get("/api/v1/leaderboard", headers={"Accept-Encoding": header})
        assert response.headers["Content-Encoding"] == "gzip"
        assert json.loads(gzip.decompress(response.get_data()))["data"]


def test_if_none_match_honours_both_representations_and_weak_tags(client, market):
    path = "/api/v1/leaderboard?limit=5"
    plain_tag = client.get(path).headers["ETag"]
    gzip_tag = client.get(path, headers=GZIP).headers["ETag"]
    for sent in (plain_tag, gzip_tag, f"W/{plain_tag}", f"W/{gzip_tag}", f'"other", {plain_tag}', "*"):
        for headers, selected in (({}, plain_tag), (GZIP, gzip_tag)):
            response = client.get(path, headers={**headers, "If-None-Match": sent})
            assert (response.status_code, response.get_data()) == (304, b""), (sent, headers)
            assert response.headers["ETag"] == selected  # the tag the 200 would have carried
            assert "Accept-Encoding" in response.headers["Vary"]
            assert "Content-Encoding" not in response.headers
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_head_of_a_cached_read_has_the_get_headers_and_no_body(client, market):
    for headers in ({}, GZIP):
        got = client.get("/api/v1/leaderboard", headers=headers)
        head = client.head("/api/v1/leaderboard", headers=headers)
        assert (head.status_code, head.get_data()) == (200, b"")
        for name in ("ETag", "Content-Length", "Content-Type", "Vary", "Cache-Control"):
            assert head.headers.get(name) == got.headers.get(name), name
        assert head.headers.get("Content-Encoding") == got.headers.get("Content-Encoding")
        conditional = {**headers, "If-None-Match": got.headers["ETag"]}
        assert client.head("/api/v1/leaderboard", headers=conditional).status_code == 304


def test_without_the_cache_large_answers_are_compressed_on_the_fly(app, client, market, monkeypatch, redis_db):
    from dataclasses import replace

    monkeypatch.setitem(app.config, "SETTINGS", replace(app.config["SETTINGS"], response_cache=False))
    plain = client.get("/api/v1/leaderboard?limit=50")
    packed = client.get("/api/v1/leaderboard?limit=50", headers=GZIP)
    assert packed.headers["X-Cache"] == "BYPASS" and packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.get_data()) == plain.get_data()
    assert packed.headers["ETag"] != plain.headers["ETag"]
    conditional = {**GZIP, "If-None-Match": plain.headers["ETag"]}
    assert client.get("/api/v1/leaderboard?limit=50", headers=conditional).status_code == 304


def test_uncached_reads_are_compressed_above_a_size_only(client, market):
    big = client.get("/openapi.json", headers=GZIP)
    assert big.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(big.get_data()))["openapi"]
    assert "Accept-Encoding" in big.headers["Vary"]
    small = client.get("/health", headers=GZIP)
    assert "Content-Encoding" not in small.headers and small.get_json()["status"] == "ok"
    sales = client.get("/api/v1/products/op-01-box/sales?limit=100", headers=GZIP)
    assert sales.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(sales.get_data()))["data"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/products/op-01-box/sales",
        "/api/v1/products/op-01-box/listings",
        "/api/v1/price-check?product=op-01-box&price=100",
        "/api/v1/products/op-01-box/history",
        "/api/v1/games",
    ],
)
def test_every_public_read_has_an_etag_and_answers_304(client, market, path):
    first = client.get(path)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert client.get(path).headers["ETag"] == etag  # the same answer, the same tag
    for sent in (etag, f"W/{etag}"):
        again = client.get(path, headers={"If-None-Match": sent})
        assert (again.status_code, again.get_data()) == (304, b"")
        assert again.headers["ETag"] == etag
    assert "no-store" not in first.headers["Cache-Control"]


def test_private_reads_have_etags_and_are_never_stored(client, market):
    headers = sign_in(client)
    assert client.post("/api/v1/me/watchlist", json={"product": "op-01-box"}, headers=headers).status_code == 201
    for path in ("/api/v1/me", "/api/v1/me/watchlist", "/api/v1/me/alerts", "/api/v1/me/notifications",
                 "/api/v1/me/portfolio"):  # fmt: skip
        first = client.get(path, headers=headers)
        assert first.status_code == 200, path
        assert first.headers["Cache-Control"] == "private, no-store", path
        again = client.get(path, headers={**headers, "If-None-Match": f"W/{first.headers['ETag']}"})
        assert again.status_code == 304, path
        assert again.headers["Cache-Control"] == "private, no-store"


def test_token_responses_and_everything_under_me_are_no_store(client, db):
    registered = register(client, "bob@example.com")
    assert registered.status_code == 202
    login = client.post("/api/v1/auth/login", json={"email": "bob@example.com", "password": PASSWORD})
    refresh_token = login.get_json()["refresh_token"]
    refreshed = client.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {refresh_token}"})
    wrong = client.post("/api/v1/auth/login", json={"email": "bob@example.com", "password": "not the password"})
    anonymous_me = client.get("/api/v1/me/watchlist")
    for response in (registered, login, refreshed, wrong, anonymous_me):
        assert "no-store" in response.headers["Cache-Control"], response.request.path


def test_the_history_varies_by_accept_cached_or_not(client, market):
    path = "/api/v1/products/op-01-box/history"
    for _ in range(2):  # the miss, then the hit
        as_json = client.get(path)
        as_csv = client.get(path, headers={"Accept": "text/csv"})
        assert as_json.mimetype == "application/json" and as_csv.mimetype == "text/csv"
        for response in (as_json, as_csv):
            vary = {v.strip() for v in response.headers["Vary"].split(",")}
            assert {"Accept", "Accept-Encoding"} <= vary
        assert as_json.headers["ETag"] != as_csv.headers["ETag"]
