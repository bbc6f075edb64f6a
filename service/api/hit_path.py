"""Cached reads answered below Flask: the API's hot path.

Most requests the API serves are anonymous reads of a cached answer (the leaderboard, a box's
history, the index). For those, Flask's request context, routing, hooks and response object cost
more than everything the answer needs, so this WSGI middleware answers them before Flask runs, with
the same pieces Flask's path uses:

- the request is counted on its rate-limit budget and its entry looked up in the rate limiter's one
  Redis round trip (service/api/ratelimit.py);
- the entry is the response cache's (service/api/caching.py), current only under the data version
  that round trip read;
- the answer carries the entry's headers, the fixed security headers (service/api/security.py) and
  a request id, and is recorded by telemetry and the access log (service/api/telemetry.py).

Everything else goes to Flask: requests that are not plain anonymous GETs of the API (a bearer token
is counted per account, a conditional request may get a 304, a cross-origin one needs CORS headers, a
body must be checked for size), misses, stale entries and requests over the limit. Those are counted
already, so Flask's limiter uses this count (and this lookup) instead of making its own round trip.
Flask's path answers hits too, with the same bytes and headers (tests/api/test_hit_path.py).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.utils import get_content_type

from service.api.caching import current_entry, request_key
from service.api.ratelimit import COUNTED, RateLimiter
from service.api.security import HSTS, fixed_headers
from service.api.telemetry import record_request
from service.core.logs import new_request_id
from service.core.settings import Settings

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@functools.lru_cache(maxsize=16)
def _content_type(mimetype: str) -> str:
    return get_content_type(mimetype, "utf-8")  # as werkzeug's Response would send it


class CachedReads:
    def __init__(self, flask: WSGIApp, limiter: RateLimiter, settings: Settings) -> None:
        self.flask = flask
        self.limiter = limiter
        self.enabled = settings.response_cache
        self.cors = bool(settings.cors_origins)
        self.fixed_headers = fixed_headers(settings)

    def answerable(self, environ: dict[str, Any]) -> bool:
        """A plain anonymous GET of the API, which a stored entry answers exactly as Flask would."""
        return (
            self.enabled
            and environ["REQUEST_METHOD"] == "GET"
            and environ.get("PATH_INFO", "").startswith("/api/")
            and "HTTP_AUTHORIZATION" not in environ
            and "HTTP_IF_NONE_MATCH" not in environ
            and environ.get("CONTENT_LENGTH") in (None, "", "0")
            and not (self.cors and "HTTP_ORIGIN" in environ)
        )

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not self.answerable(environ):
            return self.flask(environ, start_response)
        started = time.perf_counter()
        counted = self.limiter.count_anonymous_read(environ.get("REMOTE_ADDR"), request_key(environ))
        if counted is None:  # Redis unreachable: Flask's path counts in memory and computes the answer
            return self.flask(environ, start_response)
        count, version, packed = counted
        entry = current_entry(version, packed) if count <= self.limiter.default.amount else None
        if entry is None:  # a miss, a stale entry, or over the limit: Flask answers, with this count
            environ[COUNTED] = counted
            return self.flask(environ, start_response)
        request_id = new_request_id(environ.get("HTTP_X_REQUEST_ID"))
        headers = [
            ("Content-Type", _content_type(entry.mimetype)),
            ("Content-Length", str(len(entry.body))),
            *entry.headers("HIT"),
            *self.fixed_headers,
            ("X-Request-ID", request_id),
        ]
        if environ.get("wsgi.url_scheme") == "https":
            headers.append(HSTS)
        start_response("200 OK", headers)
        path = environ["PATH_INFO"]
        record_request(entry.route, "GET", path, 200, time.perf_counter() - started, "HIT", request_id)
        return [entry.body]
