"""Redis: the client, and the keys the API, the jobs and the command line share.

- the data version: the pipeline moves it on when new metrics land; the API's cached answers are keyed
  by it, so they are never stale after a refresh;
- job statistics: the worker counts each job's outcome and duration, GET /metrics reads them.

redis-py's connection pool is fork-safe (it reconnects in a child process).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import redis

log = logging.getLogger(__name__)

DATA_VERSION_KEY = "boxpro:data_version"
DATA_UPDATED_KEY = "boxpro:data_updated_at"
JOB_STATS_PREFIX = "boxpro:jobs:stats:"


def connect_redis(url: str, timeout_s: float = 1.0) -> redis.Redis:
    # Short timeouts: a Redis outage must degrade the API quickly, not hang requests.
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        health_check_interval=30,
    )


def bump_data_version(client: redis.Redis) -> int | None:
    """New metrics landed: move the API's cache key on. A Redis outage must not fail the pipeline
    (the data is in the database); the cache TTL is the backstop."""
    try:
        with client.pipeline() as pipe:
            pipe.incr(DATA_VERSION_KEY)
            pipe.set(DATA_UPDATED_KEY, datetime.now(UTC).isoformat())
            version, _ = pipe.execute()
        return int(version)
    except redis.RedisError:
        log.warning("could not bump the data version in Redis", exc_info=True)
        return None


def data_state(client: redis.Redis) -> tuple[int | None, datetime | None]:
    """The data version and when it was last bumped (None before the first run), in one call."""
    version, updated = client.mget(DATA_VERSION_KEY, DATA_UPDATED_KEY)
    stamp = updated.decode() if isinstance(updated, bytes) else updated
    return (int(version) if version is not None else None, datetime.fromisoformat(stamp) if stamp else None)


def record_job(client: redis.Redis, name: str, *, ok: bool, seconds: float) -> None:
    key = JOB_STATS_PREFIX + name
    with client.pipeline(transaction=False) as pipe:
        pipe.hincrby(key, "runs", 1)
        pipe.hincrby(key, "failures", 0 if ok else 1)
        pipe.hincrbyfloat(key, "seconds", seconds)
        pipe.hset(key, mapping={"last_seconds": round(seconds, 3), "last_finished_at": int(time.time())})
        pipe.execute()


def job_stats(client: redis.Redis) -> dict[str, dict[str, float]]:
    stats: dict[str, dict[str, float]] = {}
    for key in client.scan_iter(match=JOB_STATS_PREFIX + "*", count=100):
        name = (key.decode() if isinstance(key, bytes) else str(key)).removeprefix(JOB_STATS_PREFIX)
        stats[name] = {
            (k.decode() if isinstance(k, bytes) else str(k)): float(v) for k, v in client.hgetall(key).items()
        }
    return stats
