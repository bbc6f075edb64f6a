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

import functools
import logging
from collections.abc import Callable
from typing import Any

import redis
from flask import Response, current_app, g, make_response, request

from service.api.representation import GZIP_TAG, client_accepts_gzip, compress, etag_of, not_modified, worth_compressing
from service.extensions import redis_client

log = logging.getLogger(__name__)
DEFAULT_TTL_S = 300


# v2: entries carry their data version, encoding and Vary; a process of this version never reads an
# older layout that a process of the previous one left in Redis during a deploy.
_PREFIX = "boxpro:resp:v2:"
# The gzip representation's entry: the identity entry's key with this suffix. Both are stored
# together on a miss, so the hit path only ever reads bytes, never compresses them.
GZIP_KEY = "|gzip"
CACHE_CONTROL = "public, max-age=30"


def _key() -> str:
    """The cache key of this request: what identifies it and the representation the client accepts."""
    # The raw query string, its parameters sorted: the same request in another order shares the entry.
    query = request.query_string
    args = "&".join(sorted(query.decode("latin-1").split("&"))) if query else ""
    accept = request.headers.get("Accept")
    wants = (  # most clients send no Accept header, or */*: skip parsing it
        request.accept_mimetypes.best_match(["application/json", "text/csv"]) or "application/json"
        if accept and accept != "*/*"
        else "application/json"
    )
    return f"{_PREFIX}{wants}:{request.path}?{args}{GZIP_KEY if client_accepts_gzip() else ''}"


def _entry(version: str, etag: str, mimetype: str, encoding: str, vary: str, body: bytes) -> bytes:
    """`<data version>\t<identity etag>\t<mimetype>\t<content encoding or nothing>\t<vary>`, a
    newline, the body."""
    return f"{version}\t{etag}\t{mimetype}\t{encoding}\t{vary}\n".encode() + body


def _answer(body: bytes, etag: str, status: str, mimetype: str, encoding: str, vary: str) -> Response:
    headers = [
        ("ETag", f'"{etag}{GZIP_TAG}"' if encoding else f'"{etag}"'),
        ("Vary", vary),
        ("X-Cache", status),
        ("Cache-Control", CACHE_CONTROL),
    ]
    if not_modified(etag):
        response = Response(status=304, headers=headers)
    else:
        if encoding:
            headers.append(("Content-Encoding", encoding))
        response = Response(body, mimetype=mimetype, headers=headers)
    response.represented = True  # type: ignore[attr-defined] # service/api/representation.py: done
    return response


def answer_hit(version: str, entry: bytes) -> Response | None:
    """The response for a stored entry, or None when it was computed under another data version.
    Only 200 answers to the very same path and arguments are stored, so a hit needs neither the
    view nor its argument checks."""
    header, body = entry.split(b"\n", 1)
    stored, etag, mimetype, encoding, vary = header.decode().split("\t")
    if stored != version:
        return None
    return _answer(body, etag, "HIT", mimetype, encoding, vary)


def cache_key_for(view: Any) -> str | None:
    """The key a cached view's answer to this request is stored under; None for views that are not
    cached or when the cache is switched off."""
    if getattr(view, "response_cache", False) and current_app.config["SETTINGS"].response_cache:
        return _key()
    return None


def _store(key: str, version: str, ttl: int, response: Response) -> Response:
    """Store both representations of a 200 (gzip compressed here, once) under the data version
    read before the view ran, and answer the one the client accepts."""
    body = response.get_data()
    etag, mimetype, vary = etag_of(body), response.mimetype or "application/json", response.headers["Vary"]
    packed = compress(body) if worth_compressing(mimetype, body) else None
    identity_key = key.removesuffix(GZIP_KEY)
    try:
        with redis_client().pipeline(transaction=False) as pipe:
            pipe.set(identity_key, _entry(version, etag, mimetype, "", vary, body), ex=ttl)
            gzip_entry = _entry(version, etag, mimetype, "gzip" if packed else "", vary, packed or body)
            pipe.set(identity_key + GZIP_KEY, gzip_entry, ex=ttl)
            pipe.execute()
    except redis.RedisError:
        log.warning("could not store a cached response")
    if packed is not None and key.endswith(GZIP_KEY):
        return _answer(packed, etag, "MISS", mimetype, "gzip", vary)
    return _answer(body, etag, "MISS", mimetype, "", vary)


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
            if lookup is None:  # representation.finish tags it and compresses it on the fly
                response.headers.update({"X-Cache": "BYPASS", "Cache-Control": CACHE_CONTROL})
                return response
            key, version, _stale = lookup
            return _store(key, version, ttl, response)

        wrapper.response_cache = True  # type: ignore[attr-defined]
        return wrapper

    return decorate
