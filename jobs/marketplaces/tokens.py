"""OAuth access tokens cached in Redis, shared by every worker, minted again ahead of expiry.

eBay's token endpoint has its own daily quota and TCGplayer's tokens live two weeks, so a token is
minted by one worker at a time (a short Redis lock) and reused by all until `renew_before` ahead of its
expiry. A token the marketplace rejected (401) is dropped once so the next get() mints a fresh one.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import redis

KEY_PREFIX = "boxpro:marketplace:token:"


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float  # unix time


class TokenCache:
    def __init__(
        self,
        client: redis.Redis,
        marketplace: str,
        mint: Callable[[], tuple[str, float]],
        *,
        renew_before_s: float = 600.0,
        lock_timeout_s: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`mint` returns (access token, lifetime in seconds)."""
        self.client = client
        self.key = KEY_PREFIX + marketplace
        self.lock_key = self.key + ":lock"
        self.marketplace = marketplace
        self._mint = mint
        self.renew_before_s = renew_before_s
        self.lock_timeout_s = lock_timeout_s
        self._clock = clock

    def _cached(self) -> Token | None:
        raw = self.client.get(self.key)
        if raw is None:
            return None
        data = json.loads(raw)
        token = Token(data["value"], float(data["expires_at"]))
        return token if token.expires_at - self.renew_before_s > self._clock() else None

    def get(self) -> str:
        token = self._cached()
        if token is not None:
            return token.value
        owner = uuid.uuid4().hex
        deadline = self._clock() + self.lock_timeout_s
        while not self.client.set(self.lock_key, owner, nx=True, px=int(self.lock_timeout_s * 1000)):
            # Another worker is minting: use its token as soon as it lands.
            time.sleep(0.05)
            token = self._cached()
            if token is not None:
                return token.value
            if self._clock() > deadline:
                break
        try:
            token = self._cached()  # minted while we waited for the lock
            if token is not None:
                return token.value
            value, lifetime = self._mint()
            expires_at = self._clock() + lifetime
            ttl = max(1, int(lifetime))
            self.client.set(self.key, json.dumps({"value": value, "expires_at": expires_at}), ex=ttl)
            self.client.hincrby("boxpro:marketplace:stats:" + self.marketplace, "token_mints", 1)
            return value
        finally:
            if self.client.get(self.lock_key) == owner.encode():
                self.client.delete(self.lock_key)

    def invalidate(self, rejected: str) -> None:
        """Forget the cached token if it is the one the marketplace rejected (not a newer one)."""
        raw = self.client.get(self.key)
        if raw is not None and json.loads(raw)["value"] == rejected:
            self.client.delete(self.key)
