"""The periodic schedule, declared as data and reconciled with rq-scheduler when the scheduler starts:
the core entries below and every registered marketplace adapter's (jobs/marketplaces/registry.py).

Entries (jobs/periodic.py) get stable job ids (`schedule-<name>`), so restarting the scheduler never
duplicates a job; an entry whose definition changed is re-created, and a scheduled job whose entry was
removed is cancelled.

`health` is the scheduler's healthcheck (`flask jobs check-scheduler`): a live rq-scheduler process
that holds every entry as declared and moves due jobs on time.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq_scheduler import Scheduler

from jobs.marketplaces import registry
from jobs.periodic import ID_PREFIX, Entry

log = logging.getLogger(__name__)

# The project's own entries; each marketplace adapter declares its fetches' entries itself.
CORE: tuple[Entry, ...] = (
    Entry("sim-tick", "jobs.tasks.sim_tick", "*/5 * * * *", timeout=900),
    # Writes queue the pipeline themselves; this serves what an outage or a settings change left behind.
    Entry("pipeline-catch-up", "jobs.tasks.run_requested_pipeline", "*/10 * * * *", timeout=3600),
    Entry("webhook-sweep", "jobs.tasks.dispatch_webhooks", "*/10 * * * *", timeout=300),
    # Downloads are queued by whatever changes an image URL; this catches lost enqueues and refusals.
    Entry("images", "jobs.images.sync_images", "7,37 * * * *", timeout=300),
    Entry("raw-payload-retention", "jobs.tasks.raw_payload_retention", "17 3 * * *", timeout=600),
    Entry("record-retention", "jobs.tasks.record_retention", "27 3 * * *", timeout=600),
)
# The marketplace entries fan out one fetch job per batch of products (each with an RQ Retry policy,
# jobs/marketplaces/fetch.py); without credentials they log once and do nothing (docs/ADAPTERS.md).
SCHEDULE: tuple[Entry, ...] = (*CORE, *registry.schedule())
# Entries of the simulated market: a live database never runs them (service/core/data_mode.py).
DEMO_ONLY = frozenset({"sim-tick"})
# rq-scheduler re-enqueues one job under the entry's id at every run: that job *is* the entry, and
# rq-scheduler silently drops an entry whose job has gone. RQ expires a finished job result_ttl
# seconds after it ran, so with a day's result_ttl a weekly entry ran once and vanished (and a daily
# one outlived its expiry only by its queue wait and run time). Scheduled jobs therefore never expire
# (RQ keeps their last 10 results); one-off runs (`flask jobs run`, the admin API) keep entry.result_ttl.
NEVER_EXPIRES = -1
# rq-scheduler moves due jobs to their queues every INTERVAL_S seconds; an entry past its run time by
# more than LATE_AFTER_S means no scheduler is doing that.
INTERVAL_S = 5
RECONCILE_EVERY_S = 60
LATE_AFTER_S = 60
# A Redis outage: the scheduler tries again after a pause that doubles from 1 s up to this.
RECONNECT_MAX_S = 30


def for_mode(mode: str) -> tuple[Entry, ...]:
    """The schedule of a deployment in this data mode (DATA_MODE)."""
    return tuple(entry for entry in SCHEDULE if mode == "demo" or entry.name not in DEMO_ONLY)


@dataclass(frozen=True)
class Changes:
    created: list[str]
    kept: list[str]
    cancelled: list[str]


def reconcile(scheduler: Scheduler, entries: tuple[Entry, ...]) -> Changes:
    existing = {job.id: job for job in scheduler.get_jobs() if job.id.startswith(ID_PREFIX)}
    created, kept, cancelled = [], [], []
    for entry in entries:
        job = existing.pop(entry.job_id, None)
        if job is not None and job.meta.get("fingerprint") == entry.fingerprint and job.result_ttl == NEVER_EXPIRES:
            kept.append(entry.name)
            continue
        if job is not None:
            scheduler.cancel(job)
        scheduler.cron(
            entry.cron,
            func=entry.func,
            id=entry.job_id,
            queue_name=entry.queue,
            timeout=entry.timeout,
            result_ttl=NEVER_EXPIRES,
            meta={"fingerprint": entry.fingerprint, "schedule": entry.name},
            use_local_timezone=False,
        )
        created.append(entry.name)
    for job in existing.values():
        scheduler.cancel(job)
        cancelled.append(job.id.removeprefix(ID_PREFIX))
    log.info("schedule reconciled", extra={"jobs_created": created, "jobs_kept": kept, "jobs_cancelled": cancelled})
    return Changes(created, kept, cancelled)


def scheduler(connection: Redis) -> Scheduler:
    """rq-scheduler over `connection`, to read or change what it holds."""
    return Scheduler(connection=connection, interval=INTERVAL_S)


class ReconcilingScheduler(Scheduler):
    """The rq-scheduler that runs: it registers under a name that starts with its host, so that a
    container's healthcheck finds its own (`health(..., host=)`), and it reconciles the schedule when it
    starts and again every RECONCILE_EVERY_S. A Redis that comes back without its data (a restart
    without persistence, a lost volume, a failover) holds no entry, and rq-scheduler would run nothing,
    silently, until its next restart; this way the schedule is back within a minute."""

    def __init__(self, connection: Redis, entries: tuple[Entry, ...]) -> None:
        name = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        super().__init__(connection=connection, interval=INTERVAL_S, name=name)
        self.entries = entries
        self._reconciled_at = -float("inf")

    def enqueue_jobs(self) -> list[Job]:
        if time.monotonic() - self._reconciled_at >= RECONCILE_EVERY_S:
            reconcile(self, self.entries)
            self._reconciled_at = time.monotonic()
        return super().enqueue_jobs()

    def run(self, burst: bool = False) -> None:
        """rq-scheduler's loop, which ends at the first Redis error: this one rides out an outage (a
        Redis restart, a failover), trying again after a pause that doubles from 1 s up to
        RECONNECT_MAX_S, and reconciles the schedule as soon as Redis is back."""
        delay = 1.0
        while True:
            started = time.monotonic()
            try:
                super().run(burst)
                return
            except (RedisConnectionError, RedisTimeoutError) as exc:
                if time.monotonic() - started >= RECONNECT_MAX_S:
                    delay = 1.0  # it ran a while: a new outage, not the same one
                log.warning("redis unreachable; the scheduler retries", extra={"error": str(exc), "retry_in_s": delay})
                time.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_S)
                self._reconciled_at = -float("inf")  # Redis may have come back without its data

    def heartbeat(self) -> None:
        if not self.connection.expire(self.key, int(self._interval) + 10):
            # Redis came back without this process's registration (an outage shorter than the loop's
            # pause, a restart without persistence): register again, and put the schedule back now.
            self.register_birth()
            self._reconciled_at = -float("inf")

    def register_birth(self) -> None:
        # The name is this process's own (host:pid:random): a registration under it that outlived an
        # outage, with no death recorded, is this process's, not another live scheduler's.
        self.connection.delete(self.key)
        super().register_birth()


@dataclass(frozen=True)
class Health:
    live: list[str]  # rq-scheduler processes registered and sending heartbeats
    missing: list[str]  # entries rq-scheduler does not hold as declared
    late: list[str]  # entries past their run time by more than LATE_AFTER_S

    @property
    def ok(self) -> bool:
        return bool(self.live) and not self.missing and not self.late


def health(connection: Redis, entries: tuple[Entry, ...], *, host: str | None = None) -> Health:
    """Is a scheduler alive (on `host`, when given) and holding `entries`?

    rq-scheduler registers each process as a hash with its birth (and, on a clean exit, its death)
    that expires unless the process's heartbeat, every INTERVAL_S, renews it. An entry is held when
    its job is in the scheduled set with the entry's fingerprint and will still exist when it is due.
    """
    live = []
    for key in connection.scan_iter(match=f"{Scheduler.redis_scheduler_namespace_prefix}*"):
        birth, death = connection.hmget(key, ["birth", "death"])
        name = key.decode().removeprefix(Scheduler.redis_scheduler_namespace_prefix)
        if birth is not None and death is None and (host is None or name.rsplit(":", 2)[0] == host):
            live.append(name)
    now = time.time()
    missing, late = [], []
    for entry in entries:
        due = connection.zscore(Scheduler.scheduled_jobs_key, entry.job_id)
        try:
            job = Job.fetch(entry.job_id, connection=connection)
        except NoSuchJobError:
            job = None
        ttl = connection.ttl(job.key) if job is not None else -2
        expires_first = due is not None and 0 <= ttl < due - now
        if due is None or job is None or job.meta.get("fingerprint") != entry.fingerprint or expires_first:
            missing.append(entry.name)
        elif due < now - LATE_AFTER_S:
            late.append(entry.name)
    return Health(sorted(live), missing, late)
