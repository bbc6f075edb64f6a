"""The RQ worker the project runs (`rq worker --worker-class jobs.worker.Worker`): RQ's own, also
counting each job's outcome and duration in Redis, where GET /metrics reads them."""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
import rq
from rq.job import Job
from rq.queue import Queue

log = logging.getLogger(__name__)
STATS_PREFIX = "boxpro:jobs:stats:"


def job_name(job: Job) -> str:
    """The schedule entry's name for scheduled jobs, else the function's dotted name."""
    return str(job.meta.get("schedule") or job.func_name)


def record(client: redis.Redis, name: str, *, ok: bool, seconds: float) -> None:
    key = STATS_PREFIX + name
    with client.pipeline(transaction=False) as pipe:
        pipe.hincrby(key, "runs", 1)
        pipe.hincrby(key, "failures", 0 if ok else 1)
        pipe.hincrbyfloat(key, "seconds", seconds)
        pipe.hset(key, mapping={"last_seconds": round(seconds, 3), "last_finished_at": int(time.time())})
        pipe.execute()


def job_stats(client: redis.Redis) -> dict[str, dict[str, float]]:
    stats: dict[str, dict[str, float]] = {}
    for key in client.scan_iter(match=STATS_PREFIX + "*", count=100):
        name = (key.decode() if isinstance(key, bytes) else str(key)).removeprefix(STATS_PREFIX)
        stats[name] = {
            (k.decode() if isinstance(k, bytes) else str(k)): float(v) for k, v in client.hgetall(key).items()
        }
    return stats


class Worker(rq.Worker):
    def perform_job(self, job: Job, queue: Queue) -> Any:
        started = time.monotonic()
        ok = super().perform_job(job, queue)
        try:
            record(self.connection, job_name(job), ok=bool(ok), seconds=time.monotonic() - started)
        except redis.RedisError:  # the job's own result is what matters
            log.warning("could not record job stats", extra={"job_id": job.id})
        return ok
