"""The Redis client. redis-py's connection pool is fork-safe (it reconnects in a child process)."""

from __future__ import annotations

import redis


def connect_redis(url: str, timeout_s: float = 1.0) -> redis.Redis:
    # Short timeouts: a Redis outage must degrade the API quickly, not hang requests.
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        health_check_interval=30,
    )
