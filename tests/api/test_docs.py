"""The interactive docs (/docs: Swagger UI, /redoc: ReDoc) work without internet: the pages and every
file they load come from the service itself, out of the pinned package, under a policy that lets in
nothing else."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from service.api import docs
from service.core.settings import PROJECT_ROOT

# Attributes (src, href, ReDoc's spec-url) and Swagger UI's config (`url: "..."`).
REFERENCE = re.compile(r"""(?:(?:src|href|spec-url)\s*=|\burl:)\s*["']([^"']+)["']""")
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_load_everything_from_the_service(client, db, page):
    response = client.get(page)
    assert (response.status_code, response.mimetype) == (200, "text/html")
    html = response.get_data(as_text=True)
    assert "://" not in html and "//cdn" not in html  # no absolute URL at all, let alone a CDN's
    references = REFERENCE.findall(html)
    assert references and "/openapi.json" in references
    for url in references:
        assert url.startswith("/"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.get_data()) > 1000, url
        if url.endswith(".js"):
            assert asset.mimetype in ("text/javascript", "application/javascript"), url
        elif url.endswith(".css"):
            assert asset.mimetype == "text/css", url
        asset.close()


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_policy_allows_the_pages_own_scripts_and_nothing_from_elsewhere(client, db, page):
    response = client.get(page)
    directives = (d.partition(" ") for d in response.headers["Content-Security-Policy"].split("; "))
    policy = {name: value for name, _, value in directives}
    assert policy["default-src"] == "'none'"
    assert "http" not in response.headers["Content-Security-Policy"]  # no outside host
    assert "unsafe-inline" not in policy["script-src"] and "unsafe-eval" not in policy["script-src"]
    inline = INLINE_SCRIPT.findall(response.get_data(as_text=True))
    hashes = {f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in inline}
    assert set(policy["script-src"].split()) == {"'self'", *hashes}
    # A revalidated page keeps its policy (a 304's headers replace the stored ones).
    again = client.get(page, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert again.headers["Content-Security-Policy"] == response.headers["Content-Security-Policy"]


def test_the_docs_assets_come_from_the_pinned_package_and_are_kept_a_year(client, db):
    pinned = re.search(r"^drf-spectacular-sidecar==(\S+)$", (PROJECT_ROOT / "requirements.txt").read_text(), re.M)
    assert pinned and pinned.group(1) == docs.VERSION
    assert f"/{docs.VERSION}/" in docs.SWAGGER_UI_URL and f"/{docs.VERSION}/" in docs.REDOC_URL
    asset = client.get(docs.REDOC_URL)
    assert asset.status_code == 200
    assert "max-age=31536000" in asset.headers["Cache-Control"]
    asset.close()
    assert client.get(f"{docs.ASSETS_URL}/../../openapi.json").status_code == 404
