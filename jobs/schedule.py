"""The periodic schedule, declared as data and reconciled with rq-scheduler when the scheduler starts:
the core entries below and every registered marketplace adapter's (jobs/marketplaces/registry.py).

Entries (jobs/periodic.py) get stable job ids (`schedule-<name>`), so restarting the scheduler never
duplicates a job; an entry whose definition changed is re-created, and a scheduled job whose entry was
removed is cancelled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

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
    Entry("raw-payload-retention", "jobs.tasks.raw_payload_retention", "17 3 * * *", timeout=600),
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
