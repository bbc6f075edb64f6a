"""The RQ worker the project runs (`rq worker --worker-class jobs.worker.Worker`): RQ's own, also
counting each job's outcome and duration in Redis (service.core.cache), where GET /metrics reads them."""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
import rq
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.queue import Queue
from rq.registry import StartedJobRegistry

from service.core.cache import record_job
from service.core.logs import configure_logging
from service.core.settings import Settings

log = logging.getLogger(__name__)


def job_name(job: Job) -> str:
    """The schedule entry's name for scheduled jobs, else the function's dotted name."""
    return str(job.meta.get("schedule") or job.func_name)


class Worker(rq.Worker):
    def bootstrap(self, logging_level: str | None = "INFO", *args: Any, **kwargs: Any) -> None:
        """The project's structured logging (JSON lines on stderr, LOG_LEVEL), as in the API: the jobs'
        own lines (e-mails of the console backend, skipped adapters, the pipeline's progress) and RQ's
        go through it. RQ's CLI gave its own loggers handlers of their own; those would print twice."""
        level = Settings.from_env().log_level
        configure_logging(level)
        for name in ("rq.worker", "rq.job", "rq.scheduler"):
            logging.getLogger(name).handlers.clear()
        super().bootstrap(level, *args, **kwargs)

    def perform_job(self, job: Job, queue: Queue) -> Any:
        started = time.monotonic()
        ok = super().perform_job(job, queue)
        try:
            record_job(self.connection, job_name(job), ok=bool(ok), seconds=time.monotonic() - started)
        except redis.RedisError:  # the job's own result is what matters
            log.warning("could not record job stats", extra={"job_id": job.id})
        return ok


def recover_abandoned(connection: redis.Redis, job_id: str) -> bool:
    """Hand the job of a worker that died outright (SIGKILL, out of memory) to RQ's own abandoned-job
    handling now: its failure callback runs, then its Retry policy re-queues it (or it moves to the
    failed registry). Left alone, RQ notices only once the job's heartbeat lapses (its timeout + 60 s)
    and a worker's maintenance next runs (every 10 min), so a killed fetch would wait that long.
    Only this job's executions are expired; jobs of live workers are not touched."""
    try:
        job = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        return False
    registry = StartedJobRegistry(job.origin, connection=connection)
    members = [m.decode() if isinstance(m, bytes) else str(m) for m in connection.zrange(registry.key, 0, -1)]
    executions = [m for m in members if registry.parse_job_id(m) == job_id]
    if not executions:
        return False
    connection.zadd(registry.key, dict.fromkeys(executions, 0), xx=True)
    registry.cleanup(timestamp=0)  # exactly the entries expired just above
    return True
