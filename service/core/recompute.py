"""The pipeline runs itself: what asks for it, and how asking is debounced.

Every write of observations adds a `pipeline_requests` row naming the earliest day it touched, in its
own transaction (the ingest writer does it, so no writer can forget); a change of a `settings` value
adds one through a trigger (sql/functions/pipeline_requests.sql). Then `request_run` queues the
pipeline job (jobs.tasks.run_requested_pipeline) a little later, once: a burst of fetches gives one
run, and a fetch during a run gives one follow-up. The job recomputes from the earliest requested
day and deletes the requests it served; a killed job leaves them for the next run or for the
`pipeline-catch-up` schedule entry, which also covers requests whose enqueue was lost (Redis down).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
import redis
from rq import Queue

from service.core.sql import query

log = logging.getLogger(__name__)

JOB = "jobs.tasks.run_requested_pipeline"  # by name: the core never imports jobs/
QUEUED_KEY = "boxpro:pipeline:queued"  # the id of the queued (not yet started) pipeline job
QUEUE = "default"
JOB_TIMEOUT_S = 3600


@dataclass(frozen=True)
class Requests:
    """What the requests `ids` ask for, together."""

    ids: list[int]
    from_day: date
    resummarise: bool
    reinfer: bool

    @property
    def count(self) -> int:
        return len(self.ids)


def mark(conn: psycopg.Connection[Any], first: datetime | date, reason: str) -> None:
    """Ask for the days from `first` on to be recomputed (run it in the transaction that wrote them)."""
    day = first.date() if isinstance(first, datetime) else first
    conn.execute(query("recompute/mark"), {"from_day": day, "reason": reason})


def pending(conn: psycopg.Connection[Any]) -> Requests | None:
    row = conn.cursor(row_factory=psycopg.rows.tuple_row).execute(query("recompute/pending")).fetchone()
    if row is None or row[0] is None:
        return None
    return Requests(list(row[0]), row[1], bool(row[2]), bool(row[3]))


def served(conn: psycopg.Connection[Any], requests: Requests) -> None:
    """The pipeline covered these requests: forget them. Only these: one committed since they were
    read stays for the follow-up, even with a lower id (ids are drawn when a writer's transaction
    inserts its request, not when it commits, so its data may have landed after the run read it)."""
    conn.execute(query("recompute/served"), {"ids": requests.ids})


def request_run(client: redis.Redis, delay_s: float = 0.0) -> str | None:
    """Queue the pipeline job in `delay_s` seconds unless one is queued and not started yet; the id of
    the job that will serve the caller's requests. None when Redis is unreachable: the requests are in
    the database, and the catch-up entry runs them."""
    job_id = f"pipeline-{uuid.uuid4().hex[:12]}"
    try:
        # The job deletes the key when it starts, so a request made during a run queues one follow-up.
        if not client.set(QUEUED_KEY, job_id, nx=True, ex=int(delay_s) + JOB_TIMEOUT_S):
            queued = client.get(QUEUED_KEY)
            return queued.decode() if isinstance(queued, bytes) else str(queued)
        queue = Queue(QUEUE, connection=client)
        options: dict[str, Any] = {"job_id": job_id, "job_timeout": JOB_TIMEOUT_S, "result_ttl": 24 * 3600}
        try:
            if delay_s > 0:
                queue.enqueue_in(timedelta(seconds=delay_s), JOB, **options)
            else:
                queue.enqueue(JOB, **options)
        except redis.RedisError:
            client.delete(QUEUED_KEY)  # no job stands behind the key: the next request must queue one
            raise
    except redis.RedisError:
        log.warning("could not queue the pipeline; the catch-up entry will run it", exc_info=True)
        return None
    return job_id


def started(client: redis.Redis) -> None:
    """Called by the pipeline job as it starts: requests from now on need a job of their own."""
    try:
        client.delete(QUEUED_KEY)
    except redis.RedisError:
        log.warning("could not clear the queued-pipeline key", exc_info=True)
