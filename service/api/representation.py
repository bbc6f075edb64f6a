"""How an answer travels: gzip when the client asks for it, entity tags, conditional requests, Vary and
Cache-Control.

- gzip only for a client whose Accept-Encoding accepts it, and only for text types above
  GZIP_MIN_BYTES (smaller bodies barely shrink). The response cache (service/api/caching.py) stores
  both representations of an answer, compressed once when stored; everything else is compressed here,
  on the fly.
- RFC 9110: the gzip and identity representations are different, so their entity tags differ (the
  gzip one ends in GZIP_TAG); `If-None-Match` with either, strong or weak (`W/"…"`: GET and HEAD use
  the weak comparison), is the same content and gets 304.
- Every successful read (GET/HEAD 200) carries an ETag, computed from its identity body.
- Cache-Control by rule, so new routes inherit it: accounts (the auth blueprint, anything under
  /api/v1/auth/: tokens, /me) and everything under /api/v1/me and /api/v1/admin are
  `private, no-store` (a token or a user's data never lands in any cache, not even the browser's;
  the ETag still lets a client that keeps its own copy ask for a 304); other reads that the response
  cache does not hold are `no-cache` (stored, revalidated with the ETag each time); cached reads are
  `public, max-age=30` (caching.py).
"""

from __future__ import annotations

import functools
import gzip
import hashlib

from flask import Flask, Response, request
from werkzeug.datastructures import ETags
from werkzeug.http import parse_accept_header

GZIP_MIN_BYTES = 1024
GZIP_LEVEL = 6
GZIP_TAG = "-gzip"
COMPRESSIBLE = frozenset(
    {"application/json", "text/csv", "image/svg+xml", "text/html", "text/plain", "text/css", "text/javascript",
     "application/javascript", "application/openmetrics-text"}
)  # fmt: skip
PRIVATE = "private, no-store"
PRIVATE_PREFIXES = ("/api/v1/auth/", "/api/v1/me/", "/api/v1/admin/")
PRIVATE_PATHS = frozenset({"/api/v1/me"})
PRIVATE_BLUEPRINTS = frozenset({"auth"})
REVALIDATE = "no-cache"


@functools.lru_cache(maxsize=256)
def accepts_gzip(header: str | None) -> bool:
    """Whether an Accept-Encoding value accepts gzip (q > 0, named or by `*`). Clients send few
    distinct values, so the answer is remembered per value."""
    if not header:
        return False
    accepted = parse_accept_header(header.lower())
    for name in ("gzip", "x-gzip"):
        if name in accepted.values():
            return accepted[name] > 0
    return accepted["*"] > 0


def client_accepts_gzip() -> bool:
    return accepts_gzip(request.environ.get("HTTP_ACCEPT_ENCODING"))


def compress(body: bytes) -> bytes:
    # mtime=0: the same body always compresses to the same bytes.
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


def worth_compressing(mimetype: str | None, body: bytes) -> bool:
    return mimetype in COMPRESSIBLE and len(body) >= GZIP_MIN_BYTES


def etag_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def not_modified(etag: str) -> bool:
    """Whether the request's If-None-Match names this content in either representation. `etag` is
    the identity tag (unquoted)."""
    if "HTTP_IF_NONE_MATCH" not in request.environ:
        return False
    tags: ETags = request.if_none_match
    return tags.contains_weak(etag) or tags.contains_weak(etag + GZIP_TAG)


def cache_control() -> str | None:
    """The Cache-Control a response gets when its view set none (see the module's docstring)."""
    path = request.path
    if path in PRIVATE_PATHS or path.startswith(PRIVATE_PREFIXES) or request.blueprint in PRIVATE_BLUEPRINTS:
        return PRIVATE
    if request.method in ("GET", "HEAD"):
        return REVALIDATE
    return None


def finish(response: Response) -> Response:
    """Cache-Control, ETag, 304 and gzip for every answer the response cache did not already finish."""
    if getattr(response, "represented", False):
        return response  # the response cache chose the representation and answered the condition
    if "Cache-Control" not in response.headers:
        policy = cache_control()
        if policy:
            response.headers["Cache-Control"] = policy
    if response.direct_passthrough or response.is_streamed:
        return response  # files: Flask's static handling tags them and answers conditions itself
    mimetype = response.mimetype
    if mimetype in COMPRESSIBLE:
        response.vary.add("Accept-Encoding")
    if response.status_code < 200 or response.status_code in (204, 304):
        return response
    body = response.get_data()
    ok_read = request.method in ("GET", "HEAD") and response.status_code == 200
    etag = response.get_etag()[0] if "ETag" in response.headers else None
    if etag is None and ok_read:
        etag = etag_of(body)
    gzipped = "Content-Encoding" not in response.headers and client_accepts_gzip() and worth_compressing(mimetype, body)
    if etag is not None:
        response.set_etag(etag + GZIP_TAG if gzipped else etag)
        if ok_read and not_modified(etag):
            response.status_code = 304  # werkzeug drops the body and the entity headers
            return response
    if gzipped:
        response.set_data(compress(body))
        response.headers["Content-Encoding"] = "gzip"
    return response


def init_representation(app: Flask) -> None:
    app.after_request(finish)
