"""Response caching for read endpoints, keyed by the pipeline's data version.

Keys include `boxpro:data_version`, which the pipeline bumps the moment new metrics land, so a
cached answer is never older than the data (the TTL is only a backstop). Every cached response
carries an ETag; `If-None-Match` with it gets 304. When Redis is down, views answer from the
database as if nothing were cached.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable
from typing import Any

import redis
from flask import Response, current_app, g, make_response, request

from service.extensions import redis_client

log = logging.getLogger(__name__)
DEFAULT_TTL_S = 300


_PREFIX = "boxpro:resp:"


def _key_parts() -> tuple[str, str]:
    """The cache key around the data version: prefix, then what identifies the request."""
    # The raw query string, its parameters sorted: the same request in another order shares the entry.
    query = request.query_string
    args = "&".join(sorted(query.decode("latin-1").split("&"))) if query else ""
    accept = request.headers.get("Accept")
    wants = (  # most clients send no Accept header, or */*: skip parsing it
        request.accept_mimetypes.best_match(["application/json", "text/csv"]) or "application/json"
        if accept and accept != "*/*"
        else "application/json"
    )
    return _PREFIX, f":{wants}:{request.path}?{args}"


def _etag(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def _answer(body: bytes, etag: str, status: str, mimetype: str = "application/json") -> Response:
    not_modified = etag in request.if_none_match
    response = Response(status=304) if not_modified else Response(body, mimetype=mimetype)
    response.set_etag(etag)
    response.headers["X-Cache"] = status
    response.headers["Cache-Control"] = "public, max-age=30"
    return response


def answer_hit(entry: bytes) -> Response:
    """The response for a stored entry. Only 200 answers to the very same path and arguments are
    stored, so a hit needs neither the view nor its argument checks."""
    header, body = entry.split(b"\n", 1)
    etag, mimetype = header.decode().split(" ", 1)
    return _answer(body, etag, "HIT", mimetype)


def cache_key_for(view: Any) -> tuple[str, str] | None:
    """(prefix, suffix) of the key a cached view's answer to this request is stored under, around
    the data version; None for views that are not cached or when the cache is switched off."""
    if getattr(view, "response_cache", False) and current_app.config["SETTINGS"].response_cache:
        return _key_parts()
    return None


def cached(ttl: int = DEFAULT_TTL_S) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Entries are `<etag> <mimetype>` on one line, then the body: no JSON to parse on a hit."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            # The rate limiter looked the entry up, in its own Redis call, and answered a hit
            # before dispatch (service/api/ratelimit.py). Without its lookup (Redis unreachable, the
            # cache switched off) the answer is computed and not stored.
            key = g.cache_lookup[0] if "cache_lookup" in g else None
            response = make_response(view(*args, **kwargs))
            if response.status_code != 200:
                return response
            body = response.get_data()
            etag = _etag(body)
            mimetype = response.mimetype or "application/json"
            if key is not None:
                try:
                    redis_client().set(key, f"{etag} {mimetype}\n".encode() + body, ex=ttl)
                except redis.RedisError:
                    log.warning("could not store a cached response")
            return _answer(body, etag, "MISS" if key else "BYPASS", mimetype)

        wrapper.response_cache = True  # type: ignore[attr-defined]
        return wrapper

    return decorate
