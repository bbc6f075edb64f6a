"""A periodic job, declared as data: what jobs/schedule.py reconciles with rq-scheduler.

Its own module, below everything that declares entries (the core schedule, each marketplace adapter),
so that declaring an entry never imports the schedule that collects them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from redis import Redis
from rq.job import Job

from service.core import queueing

ID_PREFIX = "schedule-"


@dataclass(frozen=True)
class Entry:
    name: str
    func: str  # dotted path of the job function
    cron: str  # UTC
    queue: str = "default"
    timeout: int = 600  # seconds
    result_ttl: int = 24 * 3600
    failure_ttl: int = 7 * 24 * 3600

    @property
    def job_id(self) -> str:
        return f"{ID_PREFIX}{self.name}"

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]

    def run_now(self, connection: Redis) -> Job:
        """Enqueue this entry's job now, once, outside the schedule (the admin API, `flask jobs run`)."""
        return queueing.enqueue(
            connection,
            self.name,
            self.func,
            queue=self.queue,
            timeout=self.timeout,
            result_ttl=self.result_ttl,
            failure_ttl=self.failure_ttl,
        )
