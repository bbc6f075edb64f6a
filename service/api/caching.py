"""Response caching for read endpoints, keyed by the pipeline's data version.

Keys include `boxpro:data_version`, which the pipeline bumps the moment new metrics land, so a
cached answer is never older than the data (the TTL is only a backstop). Every cached response
carries an ETag; `If-None-Match` with it gets 304. When Redis is down, views answer from the
database as if nothing were cached.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

import redis
from flask import Response, make_response, request

from jobs.pipeline import DATA_VERSION_KEY
from service.extensions import redis_client

log = logging.getLogger(__name__)
DEFAULT_TTL_S = 300


def _key(version: Any) -> str:
    version = version.decode() if isinstance(version, bytes) else version or "0"
    args = "&".join(f"{k}={v}" for k, v in sorted(request.args.items(multi=True)))
    wants = request.accept_mimetypes.best_match(["application/json", "text/csv"]) or "application/json"
    return f"boxpro:api:{version}:{wants}:{request.path}?{args}"


def _etag(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def _answer(body: bytes, etag: str, status: str, mimetype: str = "application/json") -> Response:
    not_modified = etag in request.if_none_match
    response = Response(status=304) if not_modified else Response(body, mimetype=mimetype)
    response.set_etag(etag)
    response.headers["X-Cache"] = status
    response.headers["Cache-Control"] = "public, max-age=30"
    return response


def cached(ttl: int = DEFAULT_TTL_S) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            client = redis_client()
            key = None
            try:
                key = _key(client.get(DATA_VERSION_KEY))
                hit = client.get(key)
                if hit is not None:
                    entry = json.loads(hit)
                    return _answer(entry["body"].encode(), entry["etag"], "HIT", entry["mimetype"])
            except redis.RedisError:
                log.warning("cache unavailable; answering from the database")
                key = None
            response = make_response(view(*args, **kwargs))
            if response.status_code != 200:
                return response
            body = response.get_data()
            etag = _etag(body)
            mimetype = response.mimetype or "application/json"
            if key is not None:
                try:
                    client.set(key, json.dumps({"body": body.decode(), "etag": etag, "mimetype": mimetype}), ex=ttl)
                except redis.RedisError:
                    log.warning("could not store a cached response")
            return _answer(body, etag, "MISS" if key else "BYPASS", mimetype)

        return wrapper

    return decorate
