"""What every marketplace's fetch job shares: one ingest run per job, ended through one path.

Every fetch job an adapter offers is `job(ADAPTER, kind, work, ...)`: it reads the settings once (the
adapter's section from the same `Env`), is skipped with one log line while the adapter lacks a
setting, and otherwise opens the ingest run, lets `work` fill it, records it, and raises `FetchFailed`
when anything failed, so RQ's Retry tries again. `enqueue_fetches` splits a fetch into jobs of a
batch of products each (what the schedule runs).

Safe to retry and idempotent. A job pins the instant it observes the market at in its RQ job meta,
so a retry (after an error, or after its worker was killed) stamps the same snapshots and price
points, finds what the earlier attempt already committed, and fetches only the rest. Each product's
snapshot is written in its own transaction, whole or not at all. A product that could not be fetched
fails the run (recorded with the reason); a spent quota ends the run as `deferred` and schedules the
remaining products for after the reset.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import redis
from rq import Queue, Retry, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from jobs.marketplaces import registry
from jobs.marketplaces.base import Adapter, Config
from jobs.marketplaces.http import CallRecorder
from jobs.marketplaces.sources import load_sources
from service.core import recompute
from service.core.cache import connect_redis
from service.core.circuits import QuotaCircuit
from service.core.ingest import writer
from service.core.ingest.after import write_listings
from service.core.ingest.records import ListingBatch
from service.core.settings import Settings
from service.core.sql import query

log = logging.getLogger(__name__)

# A retry within this long of the first attempt observes "the same instant"; later, a new one.
PIN_MAX_AGE = timedelta(minutes=30)
DEFAULT_QUEUE = "default"
DEFER_MARGIN = timedelta(minutes=5)  # after a quota reset, before calling again
OBSERVATIONS = ("snapshots", "sales", "price_points")  # what the pipeline computes from


class FetchFailed(RuntimeError):
    """Some products could not be fetched. The run records which and why; RQ's Retry tries again."""


@dataclass
class Run:
    """One fetch job's ingest run: its connections, its instant, and what it wrote and what failed."""

    conn: psycopg.Connection[Any]
    redis: redis.Redis
    run_id: int
    kind: str
    product_ids: list[int] | None  # None: every product with a usable source
    recorder: CallRecorder
    observed_at: datetime
    result: writer.WriteResult = field(default_factory=writer.WriteResult)
    failures: list[str] = field(default_factory=list)
    deferred_until: datetime | None = None
    inferred_sales: int = 0
    note: str | None = None

    def fail(self, message: str) -> None:
        log.warning("fetch failure", extra={"run_id": self.run_id, "failure": message})
        self.failures.append(message)

    def write_listings(self, batch: ListingBatch) -> None:
        """Write listing snapshots with what follows from them, in one transaction
        (service.core.ingest.after)."""
        written, inferred = write_listings(self.conn, batch, run_id=self.run_id)
        self.result.add(written)
        self.inferred_sales += inferred

    def defer(self, job: Callable[..., Any], kwargs: dict[str, Any], until: datetime) -> None:
        """Schedule `job(**kwargs)` for after the quota resets (RQ's scheduler: workers run
        --with-scheduler). One deferred job per run kind and arguments, so repeated refusals do not
        pile up copies."""
        self.deferred_until = until
        func = f"{job.__module__}.{job.__qualname__}"
        current = get_current_job()
        key = hashlib.sha256(json.dumps([func, kwargs], sort_keys=True, default=str).encode()).hexdigest()[:16]
        job_id = f"deferred-{self.kind}-{key}"
        connection = current.connection if current is not None else self.redis
        try:
            existing: Job | None = Job.fetch(job_id, connection=connection)
        except Exception:  # noqa: BLE001 (NoSuchJobError or an unreadable leftover: schedule afresh)
            existing = None
        if existing is not None and existing.get_status(refresh=True) in {JobStatus.SCHEDULED, JobStatus.QUEUED}:
            return
        queue = Queue(current.origin if current is not None else DEFAULT_QUEUE, connection=connection)
        queue.enqueue_at(
            until + DEFER_MARGIN,
            func,
            kwargs=kwargs,
            job_id=job_id,
            job_timeout=current.timeout if current is not None and current.timeout else 900,
            retry=Retry(max=3, interval=[60, 300, 900]),
        )
        log.info("fetch deferred until the quota resets", extra={"job_id": job_id, "until": until.isoformat()})

    def circuit_open(self, circuit: str, job: Callable[..., Any], kwargs: dict[str, Any]) -> bool:
        """While `circuit` (a spent quota) is open, defer `job(**kwargs)` instead of calling."""
        state = QuotaCircuit(self.redis, circuit).state()
        if state is None:
            return False
        self.defer(job, kwargs, state.until)
        return True

    def summary(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "written": dict(self.result.written),
            "skipped": dict(self.result.skipped),
            "rejected": dict(self.result.rejected),
            "http_calls": self.recorder.calls,
            "http_errors": self.recorder.errors,
            "failures": self.failures,
            "deferred_until": self.deferred_until.isoformat() if self.deferred_until else None,
            "inferred_sales": self.inferred_sales,
            "note": self.note,
        }

    @property
    def status(self) -> str:
        return "deferred" if self.deferred_until else "failed" if self.failures else "succeeded"


def job(
    adapter: Adapter[Config],
    kind: str,
    work: Callable[[Run, Config], None],
    product_ids: Sequence[int] | None = None,
    *,
    missing: Callable[[Config], list[str]] | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """The body of every fetch job: `kind` names its ingest run, `work` fills the run. Skipped while
    `missing` (by default the adapter's own check) names settings it lacks, logged under `name` (by
    default the marketplace). The run is recorded whatever happens; FetchFailed when anything failed."""
    settings = Settings.from_env()
    config = adapter.read_config(settings.env)
    lacking = (missing or adapter.missing)(config)
    if lacking:
        return skipped(name or adapter.code, lacking)
    with _run(settings, kind, adapter.code, product_ids) as run:
        work(run, config)
    if run.failures:
        raise FetchFailed(f"run {run.run_id}: " + "; ".join(run.failures))
    return run.summary()


def skipped(name: str, missing: Sequence[str]) -> dict[str, Any]:
    log.info(
        "marketplace adapter skipped: no credentials",
        extra={"marketplace": name, "missing_settings": list(missing)},
    )
    return {"skipped": "not configured", "marketplace": name, "missing_settings": list(missing)}


@contextmanager
def _run(settings: Settings, kind: str, marketplace: str, product_ids: Sequence[int] | None) -> Iterator[Run]:
    current = get_current_job()
    with (
        connect_redis(settings.redis_url, timeout_s=5.0) as client,
        psycopg.connect(settings.database_url, autocommit=True) as conn,
    ):
        if current is not None:
            conn.execute(query("marketplaces/abandon_runs"), {"job_id": current.id})
        run_id = writer.start_run(
            conn, kind, marketplace=marketplace, product_ids=product_ids, job_id=current.id if current else None
        )
        run = Run(
            conn,
            client,
            run_id,
            kind,
            list(product_ids) if product_ids is not None else None,
            CallRecorder(conn, run_id, marketplace),
            _pinned_instant(datetime.now(UTC)),
        )
        try:
            yield run
        except Exception as exc:
            run.fail(f"{type(exc).__name__}: {exc}")
            _finish(run, "failed", settings)
            raise
        _finish(run, run.status, settings)
    log.info("fetch run finished", extra={"kind": kind, **run.summary()})


def _finish(run: Run, status: str, settings: Settings) -> None:
    writer.finish_run(
        run.conn, run.run_id, run.result, status=status, http_calls=run.recorder.calls, error=_error_text(run)
    )
    run.conn.execute(
        query("marketplaces/finish_run_http"),
        {"run_id": run.run_id, "http_errors": run.recorder.errors, "replay_of": None},
    )
    if any(run.result.written.get(t) for t in OBSERVATIONS):  # the writer asked for their days: queue the pipeline
        recompute.request_run(run.redis, settings.pipeline_debounce_s)


def _error_text(run: Run) -> str | None:
    lines = list(run.failures)
    if run.deferred_until:
        lines.insert(0, f"deferred until {run.deferred_until.isoformat()}: quota spent")
    if not lines:
        return None
    text = "\n".join(lines)
    return text if len(text) <= 4000 else text[:3990] + "\n..."


def _pinned_instant(now: datetime) -> datetime:
    now = now.replace(microsecond=0)
    current = get_current_job()
    if current is None:
        return now
    raw = current.meta.get("observed_at")
    if raw:
        pinned = datetime.fromisoformat(raw)
        if timedelta(0) <= now - pinned <= PIN_MAX_AGE:
            return pinned
    current.meta["observed_at"] = now.isoformat()
    current.save_meta()
    return now


def last_attempt() -> bool:
    """No retry will follow this attempt (a direct call, or an RQ job without retries left)."""
    current = get_current_job()
    return current is None or not current.retries_left


# A batch's job in one of these states will still fetch: triggering the fan-out again must not add one.
WILL_RUN = frozenset({JobStatus.CREATED, JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED})


def _batch_job_id(slot_id: str, connection: redis.Redis) -> tuple[str, bool]:
    """The id for a batch's job in this slot, and whether that job is still to run (then it is the one).
    The first job takes `slot_id`; once it is done (finished, failed for good, stopped), a new trigger
    takes `slot_id_2`, `_3`, ...: a fresh job, whose own first attempt pins a new instant."""
    generation = 1
    while True:
        job_id = slot_id if generation == 1 else f"{slot_id}_{generation}"
        try:
            status = Job.fetch(job_id, connection=connection).get_status(refresh=False)
        except NoSuchJobError:
            return job_id, False
        if status in WILL_RUN:
            return job_id, True
        generation += 1


def enqueue_fetches(kind: str, batch_size: int | None = None, slot_minutes: int = 60) -> dict[str, Any]:
    """Split the active sources of one fetch kind (an adapter's `FanOut`) into batches and enqueue one
    fetch job per batch.

    Job ids are stable per kind, time slot and batch, so a double trigger or a scheduler restart in the
    same slot never queues a batch twice while its job is still to run. A trigger after the slot's jobs
    are done fetches again (an operator's `flask jobs run` after the scheduled run of the hour).
    """
    adapter, fan_out = registry.fan_out(kind)
    size = max(1, batch_size or fan_out.batch_size)
    settings = Settings.from_env()
    with psycopg.connect(settings.database_url) as conn:
        ids = [s.product_id for s in load_sources(conn, adapter.code) if getattr(s, fan_out.needs)]
    current = get_current_job()
    connection = current.connection if current is not None else connect_redis(settings.redis_url, timeout_s=5.0)
    queue = Queue(current.origin if current is not None else DEFAULT_QUEUE, connection=connection)
    now = datetime.now(UTC)
    slot = now.replace(minute=now.minute - now.minute % max(1, min(60, slot_minutes)), second=0, microsecond=0)
    enqueued, existing = [], []
    for index, start in enumerate(range(0, len(ids), size)):
        job_id, will_run = _batch_job_id(f"fetch-{kind}-{slot:%Y%m%dT%H%M}-{index}", connection)
        if will_run:
            existing.append(job_id)
            continue
        queue.enqueue(
            fan_out.job,
            ids[start : start + size],
            job_id=job_id,
            job_timeout=900,
            # Workers run --with-scheduler, which Retry intervals need.
            retry=Retry(max=len(settings.fetch_retry_s), interval=list(settings.fetch_retry_s))
            if settings.fetch_retry_s
            else None,
            result_ttl=24 * 3600,
            failure_ttl=7 * 24 * 3600,
        )
        enqueued.append(job_id)
    log.info("fetch jobs enqueued", extra={"kind": kind, "enqueued": len(enqueued), "already_there": len(existing)})
    return {"kind": kind, "products": len(ids), "enqueued": enqueued, "already_there": existing}
