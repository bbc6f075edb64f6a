"""Response caching for read endpoints, checked against the pipeline's data version.

Each entry carries the data version it was computed under (`boxpro:data_version`, which the
pipeline bumps the moment new metrics land); an entry of another version is a miss, so a cached
answer is never older than the data (the TTL is only a backstop). A request's entry sits at one key
whatever the version: the next version's answer replaces it, rather than piling up beside it.
Every cached response carries an ETag; `If-None-Match` with it gets 304. When Redis is down, views
answer from the database as if nothing were cached.

Each answer is stored in both representations (service/api/representation.py): as is, and gzip
compressed once, when stored. A hit serves the stored bytes the client accepts: the hot path never
compresses, and its one Redis round trip fetches only the representation it serves.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from flask import Response, current_app, g, make_response, request
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from service.api.representation import GZIP_TAG, accepts_gzip, compress, etag_of, not_modified, worth_compressing
from service.extensions import redis_client

log = logging.getLogger(__name__)
DEFAULT_TTL_S = 300


# v3: entries carry their data version, encoding, Vary and route; a process of this version never
# reads an older layout that a process of the previous one left in Redis during a deploy.
_PREFIX = "boxpro:resp:v3:"
# The gzip representation's entry: the identity entry's key with this suffix. Both are stored
# together on a miss, so the hit path only ever reads bytes, never compresses them.
GZIP_KEY = "|gzip"
CACHE_CONTROL = "public, max-age=30"


def request_key(environ: dict[str, Any]) -> str:
    """The cache key of a request (its WSGI environ): what identifies it and the representation the
    client accepts. A plain function of the environ, so hits can be answered below Flask
    (service/api/hit_path.py) under the very key Flask stored them."""
    # The raw query string, its parameters sorted: the same request in another order shares the entry.
    query = environ.get("QUERY_STRING")
    args = "&".join(sorted(query.split("&"))) if query else ""
    accept = environ.get("HTTP_ACCEPT")
    wants = (  # most clients send no Accept header, or */*: skip parsing it
        _best_type(accept) if accept and accept != "*/*" else "application/json"
    )
    gzip = GZIP_KEY if accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING")) else ""
    return f"{_PREFIX}{wants}:{environ.get('PATH_INFO', '')}?{args}{gzip}"


@functools.lru_cache(maxsize=256)
def _best_type(accept: str) -> str:
    return parse_accept_header(accept, MIMEAccept).best_match(["application/json", "text/csv"]) or "application/json"


@dataclass(frozen=True, slots=True)
class Entry:
    """A stored answer: the data version it was computed under, the identity representation's ETag,
    the media type, the content encoding of `body` (or ""), Vary, and the route it answers (for
    telemetry's endpoint label)."""

    version: str
    etag: str
    mimetype: str
    encoding: str
    vary: str
    route: str
    body: bytes

    def pack(self) -> bytes:
        """One line of tab-separated fields, a newline, the body: no JSON to parse on a hit."""
        fields = (self.version, self.etag, self.mimetype, self.encoding, self.vary, self.route)
        return "\t".join(fields).encode() + b"\n" + self.body

    @classmethod
    def unpack(cls, packed: bytes) -> Entry:
        header, body = packed.split(b"\n", 1)
        version, etag, mimetype, encoding, vary, route = header.decode().split("\t")
        return cls(version, etag, mimetype, encoding, vary, route, body)

    def headers(self, status: str) -> list[tuple[str, str]]:
        """The answer's own headers (a 304's too, but for Content-Encoding, which it drops)."""
        headers = [
            ("ETag", f'"{self.etag}{GZIP_TAG}"' if self.encoding else f'"{self.etag}"'),
            ("Vary", self.vary),
            ("X-Cache", status),
            ("Cache-Control", CACHE_CONTROL),
        ]
        if self.encoding:
            headers.append(("Content-Encoding", self.encoding))
        return headers


def _answer(entry: Entry, status: str) -> Response:
    headers = entry.headers(status)
    if not_modified(entry.etag):
        response = Response(status=304, headers=[h for h in headers if h[0] != "Content-Encoding"])
    else:
        response = Response(entry.body, mimetype=entry.mimetype, headers=headers)
    response.represented = True  # type: ignore[attr-defined] # service/api/representation.py: done
    return response


def current_entry(version: str, packed: bytes | None) -> Entry | None:
    """The stored entry when there is one and it was computed under the current data version. Only
    200 answers to the very same path and arguments are stored, so a hit needs neither the view nor
    its argument checks."""
    if packed is None:
        return None
    entry = Entry.unpack(packed)
    return entry if entry.version == version else None


def answer_hit(version: str, packed: bytes) -> Response | None:
    """The response for a stored entry, or None when it was computed under another data version."""
    entry = current_entry(version, packed)
    return _answer(entry, "HIT") if entry is not None else None


def cache_key_for(view: Any) -> str | None:
    """The key a cached view's answer to this request is stored under; None for views that are not
    cached or when the cache is switched off."""
    if getattr(view, "response_cache", False) and current_app.config["SETTINGS"].response_cache:
        return request_key(request.environ)
    return None


def _store(key: str, version: str, ttl: int, response: Response) -> Response:
    """Store both representations of a 200 (gzip compressed here, once) under the data version
    read before the view ran, and answer the one the client accepts."""
    body = response.get_data()
    route = request.url_rule.rule if request.url_rule is not None else request.path
    identity = Entry(version, etag_of(body), response.mimetype or "application/json", "", response.headers["Vary"],
                     route, body)  # fmt: skip
    packed = compress(body) if worth_compressing(identity.mimetype, body) else None
    gzipped = dataclasses.replace(identity, encoding="gzip", body=packed) if packed is not None else identity
    identity_key = key.removesuffix(GZIP_KEY)
    try:
        with redis_client().pipeline(transaction=False) as pipe:
            pipe.set(identity_key, identity.pack(), ex=ttl)
            pipe.set(identity_key + GZIP_KEY, gzipped.pack(), ex=ttl)
            pipe.execute()
    except redis.RedisError:
        log.warning("could not store a cached response")
    return _answer(gzipped if key.endswith(GZIP_KEY) else identity, "MISS")


def cached(ttl: int = DEFAULT_TTL_S) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Entries hold their headers on one line, then the body: no JSON to parse on a hit."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            # The rate limiter looked the entry up, in its own Redis call, and answered a hit
            # before dispatch (service/api/ratelimit.py). Without its lookup (Redis unreachable, the
            # cache switched off) the answer is computed and not stored.
            lookup = g.get("cache_lookup")
            response = make_response(view(*args, **kwargs))
            if response.status_code != 200:
                return response
            response.vary.add("Accept-Encoding")
            if current_app.config["SETTINGS"].cors_origins:  # as service/api/security.py adds it
                response.vary.add("Origin")
            if lookup is None:  # representation.finish tags it and compresses it on the fly
                response.headers.update({"X-Cache": "BYPASS", "Cache-Control": CACHE_CONTROL})
                return response
            key, version, _stale = lookup
            return _store(key, version, ttl, response)

        wrapper.response_cache = True  # type: ignore[attr-defined]
        return wrapper

    return decorate
