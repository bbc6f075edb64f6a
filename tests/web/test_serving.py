"""The service serves the web dashboard (service/web.py) beside the API: `index.html` never cached,
hashed assets cached for a year (gzip twin when the client takes it), and the app's page for any client
route a browser opens, while API, docs and operations paths keep their JSON 404."""

from __future__ import annotations

import gzip

import pytest

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
INDEX = (
    b'<!doctype html><html><head><meta name="data-mode" content="" />'
    b'<script type="module" src="/assets/index-abc123.js"></script></head></html>'
)
SERVED = INDEX.replace(b'content=""', b'content="demo"')  # the service's data mode, for the banner
SCRIPT = b"console.log('the app');" * 20


@pytest.fixture
def dist(app, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A built client of our own making, so these tests need no npm build."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_bytes(INDEX)
    (tmp_path / "assets" / "index-abc123.js").write_bytes(SCRIPT)
    (tmp_path / "assets" / "index-abc123.js.gz").write_bytes(gzip.compress(SCRIPT))
    (tmp_path / "assets" / "style-def456.css").write_bytes(b"body{margin:0}")
    monkeypatch.setitem(app.config, "WEB_DIST", str(tmp_path))
    return tmp_path


def test_index_is_served_at_the_root_never_cached_with_a_policy_that_allows_only_its_own_files(client, dist):
    response = client.get("/", headers=HTML)
    assert response.status_code == 200
    assert response.data == SERVED
    assert response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-cache"
    again = client.get("/", headers={**HTML, "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    assert "connect-src 'self'" in csp and "img-src 'self';" in csp and "frame-ancestors 'none'" in csp


def test_hashed_assets_are_immutable_for_a_year_and_gzipped_for_clients_that_take_it(client, dist):
    plain = client.get("/assets/index-abc123.js")
    assert plain.status_code == 200 and plain.data == SCRIPT
    assert plain.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Content-Encoding" not in plain.headers
    zipped = client.get("/assets/index-abc123.js", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.mimetype in {"text/javascript", "application/javascript"}
    assert gzip.decompress(zipped.data) == SCRIPT
    assert zipped.headers["Vary"] == "Accept-Encoding"
    css = client.get("/assets/style-def456.css", headers={"Accept-Encoding": "gzip"})
    assert css.data == b"body{margin:0}" and "Content-Encoding" not in css.headers  # no twin: plain


@pytest.mark.parametrize("path", ["/box/op-01-box", "/market", "/reset-password?token=abc", "/leaderboard/x/y"])
def test_client_routes_opened_in_a_browser_get_the_app(client, dist, path):
    response = client.get(path, headers=HTML)
    assert response.status_code == 200
    assert response.data == SERVED
    assert response.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize(
    "path", ["/api/v1/nope", "/api/v2/leaderboard", "/docs/nope", "/health/nope", "/metrics/x", "/assets/gone.js"]
)
def test_api_docs_operations_and_unknown_assets_keep_their_json_404(client, dist, path):
    response = client.get(path, headers=HTML)
    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"


def test_a_client_that_does_not_ask_for_html_gets_the_json_404(client, dist):
    assert client.get("/box/op-01-box", headers={"Accept": "*/*"}).status_code == 404
    assert client.post("/box/op-01-box", headers=HTML).status_code == 404


def test_the_api_keeps_its_own_policy(client, dist):
    response = client.get("/api/v1/games")
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_without_a_build_the_root_says_how_to_build_it(client, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "WEB_DIST", str(tmp_path / "missing"))
    response = client.get("/", headers=HTML)
    assert response.status_code == 404
    assert "npm run build" in response.get_json()["message"]
