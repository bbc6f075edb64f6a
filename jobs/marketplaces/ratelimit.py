"""A token bucket per marketplace in Redis, shared by every worker process.

The bucket lives in one hash (tokens, updated-at); a Lua script refills it from Redis's own clock and
takes a token atomically, or says how long to wait for one. Using the server's clock means workers on
machines with skewed clocks still share one rate.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis

KEY_PREFIX = "boxpro:marketplace:ratelimit:"

# KEYS[1] bucket; ARGV: rate (tokens/s), burst (capacity). Returns 0 when a token was taken, else
# the milliseconds until one will be there.
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + (math.max(0, now - at) / 1000000) * rate)
local wait_ms = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait_ms = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 60000)
return wait_ms
"""


class TokenBucket:
    def __init__(
        self,
        client: redis.Redis,
        marketplace: str,
        rate_per_s: float,
        burst: int,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("a token bucket needs rate_per_s > 0 and burst >= 1")
        self.key = KEY_PREFIX + marketplace
        self.rate = rate_per_s
        self.burst = burst
        self._script = client.register_script(_TAKE)
        self._sleep = sleep

    def try_take(self) -> float:
        """Take a token if there is one: 0.0, else the seconds to wait before trying again."""
        wait_ms = int(self._script(keys=[self.key], args=[self.rate, self.burst]))
        return wait_ms / 1000

    def take(self, max_wait_s: float = 300.0) -> float:
        """Block until a token is taken; the seconds spent waiting."""
        waited = 0.0
        while True:
            wait = self.try_take()
            if wait == 0:
                return waited
            if waited + wait > max_wait_s:
                raise TimeoutError(f"rate limit {self.key}: no token within {max_wait_s:.0f}s")
            self._sleep(wait)
            waited += wait
