"""The RQ worker the project runs (`rq worker --worker-class jobs.worker.Worker`): RQ's own, also
counting each job's outcome and duration in Redis (service.core.cache), where GET /metrics reads them."""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
import rq
from rq.job import Job
from rq.queue import Queue

from service.core.cache import record_job

log = logging.getLogger(__name__)


def job_name(job: Job) -> str:
    """The schedule entry's name for scheduled jobs, else the function's dotted name."""
    return str(job.meta.get("schedule") or job.func_name)


class Worker(rq.Worker):
    def perform_job(self, job: Job, queue: Queue) -> Any:
        started = time.monotonic()
        ok = super().perform_job(job, queue)
        try:
            record_job(self.connection, job_name(job), ok=bool(ok), seconds=time.monotonic() - started)
        except redis.RedisError:  # the job's own result is what matters
            log.warning("could not record job stats", extra={"job_id": job.id})
        return ok
