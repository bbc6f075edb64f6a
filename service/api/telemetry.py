"""Prometheus telemetry at GET /metrics.

Counted per request: requests and latency by endpoint (the route template, so the label set stays
small), method and status; response-cache results (the X-Cache header the cache sets). Read from
Redis at scrape time: the pipeline's data version and its age, RQ queue depths, running and failed
jobs, and workers; job runs, failures and durations (counted by jobs/worker.py through
service/core/cache.py); marketplace call counters and quota circuits (service/core/circuits.py). Read from the
database at scrape time: TimescaleDB's background jobs (the refresh policies), their runs, failures
and whether the last run failed (service/core/background_jobs.py).

Under gunicorn each worker process keeps its samples in files under PROMETHEUS_MULTIPROC_DIR and a
scrape merges them (prometheus_client's multiprocess mode); gunicorn.conf.py drops a dead worker's
live gauges. Without that variable (tests, `flask run`) the process's own registry is served.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import redis
from flask import Flask, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from rq import Queue, Worker
from rq.registry import FailedJobRegistry, StartedJobRegistry

from service.api.errors import ApiError
from service.core import circuits
from service.core.background_jobs import FAILING, background_jobs
from service.core.cache import data_state, job_stats
from service.core.db import Database
from service.core.settings import Settings

REQUESTS = Counter("boxpro_http_requests", "HTTP requests served", ["endpoint", "method", "status"])
LATENCY = Histogram(
    "boxpro_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["endpoint", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
CACHE = Counter("boxpro_api_cache", "Response cache lookups by result", ["result"])


access_log = logging.getLogger("boxpro.access")
log = logging.getLogger(__name__)

# The labelled children, by (route, method, status): prometheus_client's labels() validates and locks
# on every call; a route's children never change, so each request looks them up in a plain dict.
_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
_cache_children: dict[str, Any] = {}


def record_request(
    route: str, method: str, path: str, status: int, seconds: float, cache: str | None, request_id: str
) -> None:
    """A request's record, wherever it was answered (by Flask, or a cached read below it,
    service/api/hit_path.py): its Prometheus samples, labelled by route template so the label set
    stays small, the response cache's result (X-Cache), and the access-log line (at INFO)."""
    key = (route, method, status)
    children = _children.get(key)
    if children is None:
        children = _children[key] = (REQUESTS.labels(route, method, str(status)), LATENCY.labels(route, method))
    children[0].inc()
    children[1].observe(seconds)
    if cache:
        counter = _cache_children.get(cache)
        if counter is None:
            counter = _cache_children[cache] = CACHE.labels(cache.lower())
        counter.inc()
    if access_log.isEnabledFor(logging.INFO):
        access_log.info(
            "request",
            extra={
                "request_id": request_id, "method": method, "path": path, "status": status,
                "duration_ms": round(seconds * 1000, 2),
            },
        )  # fmt: skip


class RedisStateCollector(Collector):
    """Gauges read from Redis at scrape time (the same in every process, so not per-worker)."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("boxpro_redis_up", "Whether Redis answered this scrape")
        try:
            version, updated = data_state(self.client)
            queues = Queue.all(connection=self.client)
            depth = GaugeMetricFamily("boxpro_rq_queue_jobs", "Jobs waiting in an RQ queue", labels=["queue"])
            running = GaugeMetricFamily("boxpro_rq_running_jobs", "Jobs being worked on", labels=["queue"])
            failed = GaugeMetricFamily("boxpro_rq_failed_jobs", "Jobs in the failed registry", labels=["queue"])
            for queue in queues:
                depth.add_metric([queue.name], queue.count)
                running.add_metric([queue.name], StartedJobRegistry(queue=queue).count)
                failed.add_metric([queue.name], FailedJobRegistry(queue=queue).count)
            workers = Worker.count(connection=self.client)
        except redis.RedisError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from (depth, running, failed)
        yield GaugeMetricFamily("boxpro_rq_workers", "Live RQ workers", value=workers)
        if version is not None:
            yield GaugeMetricFamily("boxpro_data_version", "The pipeline's data version", value=version)
        if updated is not None:
            age = (datetime.now(UTC) - updated).total_seconds()
            yield GaugeMetricFamily("boxpro_data_age_seconds", "Seconds since new metrics landed", value=age)
        yield from self._jobs()
        yield from self._marketplaces()

    def _jobs(self) -> Iterator[Metric]:
        """Outcomes and durations recorded by the project's RQ worker class (jobs/worker.py)."""
        runs = CounterMetricFamily("boxpro_job_runs", "Jobs run, by job", labels=["job"])
        failures = CounterMetricFamily("boxpro_job_failures", "Jobs that failed, by job", labels=["job"])
        seconds = CounterMetricFamily("boxpro_job_seconds", "Time spent in jobs, by job", labels=["job"])
        last = GaugeMetricFamily("boxpro_job_last_seconds", "Duration of the job's last run", labels=["job"])
        for name, values in sorted(job_stats(self.client).items()):
            runs.add_metric([name], values.get("runs", 0))
            failures.add_metric([name], values.get("failures", 0))
            seconds.add_metric([name], values.get("seconds", 0))
            last.add_metric([name], values.get("last_seconds", 0))
        yield from (runs, failures, seconds, last)

    def _marketplaces(self) -> Iterator[Metric]:
        """Marketplace call counters and daily-quota circuits (service/core/circuits.py)."""
        calls = CounterMetricFamily(
            "boxpro_marketplace_events", "Marketplace calls, errors, retries, token mints, quota refusals",
            labels=["marketplace", "event"],
        )  # fmt: skip
        circuit = GaugeMetricFamily(
            "boxpro_marketplace_quota_exhausted", "1 while a spent daily quota holds calls back", labels=["api"]
        )
        for name in sorted(circuits.known_names(self.client)):
            for event, value in sorted(circuits.stats(self.client, name).items()):
                calls.add_metric([name, event], value)
            circuit.add_metric([name], 1 if circuits.QuotaCircuit(self.client, name).state() else 0)
        yield from (calls, circuit)


class DataModeCollector(Collector):
    """boxpro_data_mode{mode="demo"|"live"} 1: what this deployment serves (DATA_MODE)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("boxpro_data_mode", "1 for the data mode this deployment serves", labels=["mode"])
        family.add_metric([self.mode], 1)
        yield family


class BackgroundJobCollector(Collector):
    """TimescaleDB's background jobs, read from the database at scrape time. Without the database the
    families are left out (the scrape itself, and /health/ready, tell that the database is down)."""

    def __init__(self, db: Database, timeout_s: float) -> None:
        self.db, self.timeout_s = db, timeout_s

    def collect(self) -> Iterator[Metric]:
        try:
            with self.db.connection(timeout=self.timeout_s) as conn:
                jobs = background_jobs(conn)
        except Exception:  # a scrape must never fail for this part
            log.warning("timescaledb background jobs: not read", exc_info=True)
            return
        labels = ["job_id", "job"]
        runs = CounterMetricFamily("boxpro_timescaledb_job_runs", "Runs of a TimescaleDB background job", labels=labels)
        failures = CounterMetricFamily(
            "boxpro_timescaledb_job_failures", "Failed runs of a TimescaleDB background job", labels=labels
        )
        failing = GaugeMetricFamily(
            "boxpro_timescaledb_job_failing",
            "1 when the job's last run failed (a refusal for the server's license is not counted)",
            labels=labels,
        )
        for job in jobs:
            key = [str(job.job_id), job.job]
            runs.add_metric(key, job.total_runs)
            failures.add_metric(key, job.total_failures)
            failing.add_metric(key, 1 if job.state == FAILING else 0)
        yield from (runs, failures, failing)


def _registry(client: redis.Redis, db: Database, settings: Settings) -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        for collector in (REQUESTS, LATENCY, CACHE):
            registry.register(collector)
    registry.register(RedisStateCollector(client))
    registry.register(DataModeCollector(settings.data_mode))
    registry.register(BackgroundJobCollector(db, settings.health_timeout_s))
    return registry


def metrics() -> Response:
    """Prometheus exposition. With METRICS_TOKEN set, scrapers send it as a bearer token."""
    token = current_app.config["SETTINGS"].metrics_token
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise ApiError(401, "GET /metrics needs the metrics token.")
    settings = current_app.config["SETTINGS"]
    body = generate_latest(
        _registry(current_app.extensions["boxpro.redis"], current_app.extensions["boxpro.db"], settings)
    )
    return Response(body, content_type=CONTENT_TYPE_LATEST)


def init_telemetry(app: Flask) -> None:
    app.add_url_rule("/metrics", "telemetry.metrics", metrics)
