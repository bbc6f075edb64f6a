"""The HTTP layer every adapter shares.

One `requests.Session` per worker process; a timeout on every call; the marketplace's token bucket
before every call; retries with exponential backoff and jitter that honour `Retry-After`; a token the
marketplace rejects (401) renewed once and the call repeated; a spent daily quota opening the circuit
(service/core/circuits.py) instead of a retry loop; every response body stored as a raw payload;
calls and failures counted on the ingest run.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import psycopg
import redis
import requests

from jobs.marketplaces.config import HttpPolicy
from jobs.marketplaces.ratelimit import TokenBucket
from jobs.marketplaces.tokens import TokenCache
from service.core import circuits as circuit
from service.core.circuits import QuotaCircuit
from service.core.ingest import writer

log = logging.getLogger(__name__)

_sessions: dict[int, requests.Session] = {}


def session() -> requests.Session:
    """This process's session (connection reuse); a forked worker makes its own."""
    pid = os.getpid()
    if pid not in _sessions:
        _sessions[pid] = requests.Session()
    return _sessions[pid]


class MarketplaceError(Exception):
    """A call that failed for good: not retryable, or still failing after the last attempt."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class QuotaExhausted(MarketplaceError):
    """The marketplace's allowance is spent; nothing more may be called before `until`."""

    def __init__(self, message: str, until: datetime) -> None:
        super().__init__(message, status=429)
        self.until = until


@dataclass
class CallRecorder:
    """Keeps every response as a raw payload of the run and counts its calls and failures."""

    conn: psycopg.Connection[Any] | None
    run_id: int | None
    marketplace: str
    calls: int = 0
    errors: int = 0
    failures: list[str] = field(default_factory=list)

    def store(self, request: str, status: int | None, body: Any, context: Mapping[str, Any] | None) -> None:
        self.calls += 1
        if self.conn is not None:
            writer.store_raw_payload(
                self.conn,
                marketplace=self.marketplace,
                request=request,
                status=status,
                body=body,
                run_id=self.run_id,
                context=dict(context) if context else None,
            )

    def failed(self, what: str) -> None:
        self.errors += 1
        self.failures.append(what)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _decode(response: requests.Response) -> tuple[Any, bool]:
    """The body as JSON when it parses (True), else its text (False)."""
    try:
        return json.loads(response.content), True
    except ValueError:
        return response.content.decode("utf-8", "replace"), False


@dataclass
class MarketplaceClient:
    """HTTP to one marketplace API.

    `name` keys the shared state in Redis (rate limit, circuit, counters, token); `is_quota_error`
    tells a spent daily quota from an ordinary 429; `quota_reset` says when a spent quota comes back.
    """

    name: str
    policy: HttpPolicy
    redis: redis.Redis
    recorder: CallRecorder
    headers: Mapping[str, str] = field(default_factory=dict)
    tokens: TokenCache | None = None
    auth_header: Callable[[str], Mapping[str, str]] = lambda token: {"Authorization": f"Bearer {token}"}
    is_quota_error: Callable[[int, Any], bool] = lambda status, body: False
    quota_reset: Callable[[datetime], datetime] | None = None
    redact: Callable[[Any], Any] | None = None
    sleep: Callable[[float], None] = time.sleep
    http: requests.Session = field(default_factory=session)
    circuit_name: str = ""  # quotas can be per API of a marketplace (eBay Browse, Insights, OAuth)

    def __post_init__(self) -> None:
        self.limiter = TokenBucket(self.redis, self.name, self.policy.rate_per_s, self.policy.burst, sleep=self.sleep)
        self.circuit = QuotaCircuit(self.redis, self.circuit_name or self.name)

    def backoff(self, attempt: int) -> float:
        """Exponential with jitter: a random delay in [d/2, d], d = base * 2**attempt (capped)."""
        ceiling = min(self.policy.backoff_max_s, self.policy.backoff_base_s * 2**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 (jitter, not crypto)

    def check_circuit(self) -> None:
        state = self.circuit.state()
        if state is not None:
            raise QuotaExhausted(
                f"{self.circuit.name}: quota circuit open until {state.until.isoformat()}", state.until
            )

    def get(self, url: str, *, params: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.call("GET", url, params=params, **kwargs)

    def call(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        context: Mapping[str, Any] | None = None,
        authenticated: bool = True,
        text: bool = False,
    ) -> Any:
        """The JSON body (with `text`, the text) of a successful call; raises MarketplaceError or
        QuotaExhausted. `context` is stored with the raw payload (what the call was for)."""
        renewed = False
        attempt = 0
        while True:
            self.check_circuit()
            self.limiter.take()
            sent_headers = {**self.headers, **(headers or {})}
            token = None
            if authenticated and self.tokens is not None:
                token = self.tokens.get()
                sent_headers.update(self.auth_header(token))
            prepared = requests.Request(method, url, params=params).prepare()
            request = f"{method} {prepared.url}"
            circuit.count(self.redis, self.name, "calls")
            delay: float
            try:
                response = self.http.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=sent_headers,
                    timeout=(self.policy.connect_timeout_s, self.policy.read_timeout_s),
                )
            except requests.RequestException as exc:
                # No response (timeout, refused, reset mid-body): worth another try.
                failure = f"{request}: {type(exc).__name__}"
                self.recorder.store(request, None, {"error": type(exc).__name__, "detail": str(exc)[:500]}, context)
                delay = self.backoff(attempt)
            else:
                status = response.status_code
                body, parsed = _decode(response)
                self.recorder.store(request, status, self.redact(body) if self.redact and parsed else body, context)
                if status == 401 and token is not None and not renewed and self.tokens is not None:
                    # Expired or revoked: one fresh token, one more try. A second 401 is final.
                    log.info("access token rejected; renewing once", extra={"marketplace": self.name})
                    self.recorder.failed(f"{request}: HTTP 401, token renewed")
                    circuit.count(self.redis, self.name, "errors")
                    self.tokens.invalidate(token)
                    renewed = True
                    continue
                if 200 <= status < 300 and text:
                    return response.text
                if 200 <= status < 300 and parsed:
                    return body
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                if 200 <= status < 300:
                    failure = f"{request}: HTTP {status} with a body that is not JSON"
                    delay = self.backoff(attempt)
                elif status == 429 or status >= 500:
                    failure = f"{request}: HTTP {status}"
                    if self.is_quota_error(status, body):
                        self._quota_spent(request, status, retry_after)
                        assert retry_after is not None  # _quota_spent raised otherwise
                        delay = retry_after
                    elif retry_after is not None:
                        if retry_after > self.policy.max_retry_after_s:
                            self._fail(f"{failure}, Retry-After {retry_after:.0f}s is too long to wait", status)
                        delay = retry_after
                    else:
                        delay = self.backoff(attempt)
                else:
                    self._fail(f"{request}: HTTP {status} {_summary(body)}", status)
            attempt += 1
            self.recorder.failed(failure)
            circuit.count(self.redis, self.name, "errors")
            if attempt >= self.policy.max_attempts:
                raise MarketplaceError(f"{failure} (gave up after {attempt} attempts)")
            circuit.count(self.redis, self.name, "retries")
            log.info(
                "marketplace call failed; retrying",
                extra={"marketplace": self.name, "failure": failure, "attempt": attempt, "delay_s": round(delay, 3)},
            )
            self.sleep(delay)

    def _fail(self, message: str, status: int) -> None:
        self.recorder.failed(message)
        circuit.count(self.redis, self.name, "errors")
        raise MarketplaceError(message, status=status)

    def _quota_spent(self, request: str, status: int, retry_after: float | None) -> None:
        """A short Retry-After is waited out; otherwise the circuit opens until the quota resets."""
        if retry_after is not None and retry_after <= self.policy.max_retry_after_s:
            return
        now = datetime.now(UTC)
        if retry_after is not None:
            until = datetime.fromtimestamp(now.timestamp() + retry_after, UTC)
        elif self.quota_reset is not None:
            until = self.quota_reset(now)
        else:
            until = datetime.fromtimestamp(now.timestamp() + self.policy.max_retry_after_s, UTC)
        message = f"{request}: HTTP {status}, daily quota spent; calls resume at {until.isoformat()}"
        self.recorder.failed(message)
        circuit.count(self.redis, self.name, "errors")
        self.circuit.open(until, message, now)
        log.warning("marketplace quota spent; circuit open", extra={"marketplace": self.name, "until": until})
        raise QuotaExhausted(message, until)


def _summary(body: Any) -> str:
    text = body if isinstance(body, str) else json.dumps(body, default=str)
    return text[:300]
