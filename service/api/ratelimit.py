"""Rate limits: a fixed window per caller, counted in Redis so every gunicorn worker shares it.

Callers are accounts when signed in and addresses otherwise. Login and registration have their own,
stricter budget; probes and scrapes have none. Over the limit: 429 with Retry-After.

One Redis round trip per request: a Lua call counts it and, for an endpoint whose answers are cached
(service.api.caching), also reads the data version, with the cached entry fetched beside it in the
same pipeline: a cached read costs a single Redis round trip.
(A generic limiter such as flask-limiter makes round trips of its own that no cache lookup can share;
at the SPEC's throughput target those would be most of the cost of a cached read.)

With Redis unreachable, each process counts in memory and retries Redis after a pause, so an outage
neither fails requests nor lifts the limits.
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from flask import Flask, Response, g, request
from flask_jwt_extended import decode_token
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt.exceptions import PyJWTError

from service.api.caching import answer_hit, cache_key_for
from service.api.errors import ApiError
from service.core.cache import DATA_VERSION_KEY
from service.core.settings import Rate

log = logging.getLogger(__name__)

# The web dashboard's files (service/web.py) are static: counting them would spend a reader's API budget.
EXEMPT = frozenset({"health.liveness", "health.readiness", "telemetry.metrics", "static", "web.index", "web.asset"})
# Endpoints on the stricter budget (RATE_LIMIT_AUTH), counted per client address in a scope of their
# own: password guesses, and requests that make us send e-mail (so a burst of failed logins does not
# also lock an address out of the password reset).
STRICT = {
    "auth.login": "auth",
    "auth.register": "auth",
    "auth.request_password_reset": "mail",
    "auth.resend_verification": "mail",
}
REDIS_RETRY_S = 5.0

# KEYS: counter[, data version]; ARGV: window seconds. Returns {count[, data version]}.
_COUNT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if #KEYS == 1 then return {count} end
return {count, redis.call('GET', KEYS[2]) or '0'}
"""


# A request's count on its budget, the data version, and its cached entry (None when there is none).
Counted = tuple[int, str, bytes | None]
# Set in the WSGI environ by service/api/hit_path.py when it counted a request it did not answer.
COUNTED = "boxpro.counted"


def counter_key(scope: str, who: str, rate: Rate) -> str:
    """The Redis counter of a caller's budget in the current fixed window."""
    return f"boxpro:rl:{scope}:{who}:{int(time.time() // rate.seconds)}"


def caller() -> str:
    """Signed-in callers are limited per account (wherever they connect from); others per address.

    Only the token's signature and expiry decide whose budget a request spends. Whether its session
    ended is the view's question (flask-jwt-extended asks it for @login_required routes): a public
    read does not care, and asking would cost every signed-in read a Redis round trip of its own.
    """
    environ = request.environ
    scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme != "Bearer" or not token:
        return f"ip:{environ.get('REMOTE_ADDR')}"
    try:
        identity = decode_token(token).get("sub")
    except (JWTExtendedException, PyJWTError):
        identity = None  # a bad token is refused by the view; here it is just an anonymous caller
    return f"user:{identity}" if identity else f"ip:{environ.get('REMOTE_ADDR')}"


class RateLimiter:
    def __init__(self, client: redis.Redis, default: Rate, strict: Rate) -> None:
        self.client = client
        self.default, self.strict = default, strict
        self._script = client.register_script(_COUNT)
        self._redis_down_until = 0.0
        self._memory: dict[str, int] = {}
        self._lock = threading.Lock()

    def check(self, endpoint: str | None, cache_key: str | None, counted: Counted | None = None) -> None:
        """Count this request; 429 when over. With `cache_key`, the cache lookup rides along and
        lands in g.cache_lookup as (key, data version, entry or None). `counted`: the request was
        counted, and its entry looked up, below Flask already (service/api/hit_path.py)."""
        strict = STRICT.get(endpoint or "")
        scope, rate = (strict, self.strict) if strict else ("api", self.default)
        if counted is None:
            # Signing in and signing up count per address whatever the request carries: a token of
            # one's own must not buy more password guesses.
            who = f"ip:{request.remote_addr}" if strict else caller()
            count = self._count(counter_key(scope, who, rate), rate, cache_key)
        else:
            count, version, entry = counted
            if cache_key is not None:
                g.cache_lookup = (cache_key, version, entry)
        if count > rate.amount:
            window = int(time.time() // rate.seconds)
            retry_after = max(1, (window + 1) * rate.seconds - int(time.time()))
            raise ApiError(
                429,
                f"Too many requests: the limit is {rate.amount} per {rate.seconds} s. Retry after {retry_after} s.",
                headers={
                    "Retry-After": str(retry_after),
                    "X-RateLimit-Limit": str(rate.amount),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str((window + 1) * rate.seconds),
                },
            )

    def count_anonymous_read(self, remote_addr: str | None, cache_key: str) -> Counted | None:
        """Count an anonymous request on the default budget and look `cache_key` up, in one round
        trip, for the cached reads answered below Flask (service/api/hit_path.py). None while Redis
        is unreachable: Flask's hook then counts the request in memory."""
        if time.monotonic() < self._redis_down_until:
            return None
        try:
            counter = counter_key("api", f"ip:{remote_addr}", self.default)
            return self._count_and_look_up(counter, self.default, cache_key)
        except redis.RedisError:
            self._redis_went_down()
            return None

    def _count(self, counter: str, rate: Rate, cache_key: str | None) -> int:
        if time.monotonic() >= self._redis_down_until:
            try:
                if cache_key is None:
                    return int(self._script(keys=[counter], args=[rate.seconds])[0])
                count, version, entry = self._count_and_look_up(counter, rate, cache_key)
            except redis.RedisError:
                self._redis_went_down()
            else:
                g.cache_lookup = (cache_key, version, entry)
                return count
        with self._lock:  # a short outage's counters; cleared wholesale if they ever pile up
            if len(self._memory) > 100_000:
                self._memory.clear()
            self._memory[counter] = count = self._memory.get(counter, 0) + 1
        return count

    def _redis_went_down(self) -> None:
        log.warning("rate limits: Redis unreachable, counting in memory for a while")
        self._redis_down_until = time.monotonic() + REDIS_RETRY_S

    def _count_and_look_up(self, counter: str, rate: Rate, cache_key: str) -> tuple[int, str, bytes | None]:
        """One round trip: the script counts and reads the data version, and the cached entry rides
        along in the same pipeline as a plain GET. (A Lua script that returns a 58 kB entry costs
        Redis 7.0 forty times a GET's work, measured 62 against 1.5 us, on the cores the API shares.)
        The entry is fetched even for a request over the limit: it costs no more than the 429."""
        for attempt in (1, 2):
            try:
                with self.client.pipeline(transaction=False) as pipe:
                    pipe.evalsha(self._script.sha, 2, counter, DATA_VERSION_KEY, rate.seconds)
                    pipe.get(cache_key)
                    (count, version), entry = pipe.execute()
                return int(count), version.decode() if isinstance(version, bytes) else str(version), entry
            except redis.exceptions.NoScriptError:  # Redis restarted or its scripts were flushed
                if attempt == 2:
                    raise
                self.client.script_load(_COUNT)
        raise AssertionError("unreachable")


def init_rate_limits(app: Flask, client: redis.Redis, default: str, strict: str) -> RateLimiter:
    limiter = RateLimiter(client, Rate.parse(default), Rate.parse(strict))
    app.extensions["boxpro.ratelimit"] = limiter

    @app.before_request
    def _limit() -> Response | None:
        endpoint = request.endpoint
        if endpoint in EXEMPT or request.method == "OPTIONS":
            return None
        if endpoint is None and request.method == "GET" and not request.path.startswith("/api/"):
            return None  # the web dashboard's client routes (service/web.py): a page, not an API call
        counted = request.environ.get(COUNTED)
        limiter.check(endpoint, cache_key_for(app.view_functions.get(endpoint or "")), counted)
        lookup = g.get("cache_lookup")
        if lookup is not None and lookup[2] is not None:
            return answer_hit(lookup[1], lookup[2])  # before dispatch: the hot path of cached reads
        return None

    return limiter


def over_limit(app: Flask, scope: str, who: str, rate: Rate) -> bool:
    """Count one use by `who` in `scope` (say, one address asking for password resets) against `rate`,
    in Redis with the other counters (in memory while Redis is unreachable); True when over it."""
    limiter: RateLimiter = app.extensions["boxpro.ratelimit"]
    return limiter._count(counter_key(scope, who, rate), rate, None) > rate.amount
