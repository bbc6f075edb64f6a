"""Running a job now, once: the one way the admin API (`POST /api/v1/admin/jobs`, `/admin/recompute`)
and `flask jobs run` enqueue a job, so that whoever queued it, it is

- named alike: `meta["schedule"]` holds its name (a schedule entry's, or `recompute`), which
  `GET /api/v1/admin/jobs/{id}` shows and under which the worker counts it (`/metrics`, `job=`);
- not lost to a dying worker: a work-horse killed mid-job (SIGKILL, out of memory) or a worker that
  died holding it fails the job, and RQ's Retry puts it back on its queue at once, once. Job
  functions are idempotent (docs/CONTRIBUTING.md), so running one again is safe.

Jobs on the schedule are not enqueued here: rq-scheduler runs each at its next slot, and the fetches
an entry fans out carry their own Retry (jobs/marketplaces/fetch.py). docs/OPERATIONS.md lists which
job runs again how.
"""

from __future__ import annotations

from typing import Any

from redis import Redis
from rq import Queue, Retry
from rq.job import Job

RUN_AGAIN_ONCE = Retry(max=1)  # no interval: back on the queue at once, no scheduler needed


def enqueue(
    connection: Redis,
    name: str,
    func: str,
    *args: Any,
    queue: str = "default",
    timeout: int,
    result_ttl: int = 24 * 3600,
    failure_ttl: int = 7 * 24 * 3600,
) -> Job:
    """Queue `func(*args)` (a dotted path) as the job `name`, to run again once if its worker dies."""
    return Queue(queue, connection=connection).enqueue(
        func,
        *args,
        job_timeout=timeout,
        result_ttl=result_ttl,
        failure_ttl=failure_ttl,
        meta={"schedule": name},
        retry=RUN_AGAIN_ONCE,
    )
