"""GET /metrics: request counts, latency and cache results, Redis-side state; merged across gunicorn workers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from rq import Queue

from service.core.cache import bump_data_version
from tests.helpers import TEST_DATABASE_URL, TEST_REDIS_URL, serve_api


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_cache_results_and_redis_state_are_exposed(client, products, redis_db):
    before = client.get("/metrics").get_data(as_text=True)
    client.get("/api/v1/games")  # a miss, then a hit
    client.get("/api/v1/games")
    client.get("/api/v1/no-such-thing")
    bump_data_version(redis_db)
    Queue("default", connection=redis_db).enqueue("jobs.tasks.raw_payload_retention")
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    after = response.get_data(as_text=True)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    ok = {"endpoint": "/api/v1/games", "method": "GET", "status": "200"}
    assert grew("boxpro_http_requests_total", **ok) == 2
    assert grew("boxpro_http_requests_total", endpoint="unmatched", method="GET", status="404") == 1
    assert grew("boxpro_http_request_duration_seconds_count", endpoint="/api/v1/games", method="GET") == 2
    assert grew("boxpro_api_cache_total", result="miss") == 1
    assert grew("boxpro_api_cache_total", result="hit") == 1
    assert value(after, "boxpro_redis_up") == 1
    assert value(after, "boxpro_data_version") == 1
    assert 0 <= value(after, "boxpro_data_age_seconds") < 60
    assert value(after, "boxpro_rq_queue_jobs", queue="default") == 1
    assert value(after, "boxpro_rq_failed_jobs", queue="default") == 0


def test_a_metrics_token_guards_the_endpoint(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SETTINGS", replace(app.config["SETTINGS"], metrics_token="s3cret-scrape"))
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"}).status_code == 200


def test_redis_down_is_reported_not_raised(app, client, monkeypatch):
    import redis

    monkeypatch.setitem(app.extensions, "boxpro.redis", redis.Redis(port=1, socket_connect_timeout=0.2))
    response = client.get("/metrics")
    assert response.status_code == 200
    assert value(response.get_data(as_text=True), "boxpro_redis_up") == 0


@pytest.fixture
def gunicorn(tmp_path: Path, redis_db, migrated):  # type: ignore[no-untyped-def]
    env = {
        "DATABASE_URL": TEST_DATABASE_URL,
        "REDIS_URL": TEST_REDIS_URL,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    with serve_api(env, workers=3) as base:
        yield base


def health_count(base: str) -> float:
    text = requests.get(f"{base}/metrics", timeout=5).text
    return value(text, "boxpro_http_requests_total", endpoint="/health", method="GET", status="200")


def test_gunicorn_workers_samples_are_merged(gunicorn):
    before = health_count(gunicorn)
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: requests.get(f"{gunicorn}/health", timeout=5).status_code, range(60)))
    assert statuses == [200] * 60
    # Whichever worker answers the scrape, it reports every worker's requests.
    assert {health_count(gunicorn) for _ in range(6)} == {before + 60}


@pytest.mark.clock
def test_job_outcomes_durations_and_marketplace_quota_are_exposed(client, redis_db, settings, monkeypatch):
    from rq import Queue

    from jobs.worker import Worker
    from service.core.circuits import QuotaCircuit, count

    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    queue = Queue("test-metrics", connection=redis_db)
    queue.enqueue("jobs.tasks.raw_payload_retention")
    queue.enqueue("jobs.tasks.recompute_days", "not-a-date", "2026-01-01")  # fails
    Worker([queue], connection=redis_db).work(burst=True)
    count(redis_db, "ebay-browse", "calls", 7)
    QuotaCircuit(redis_db, "ebay-browse").open(datetime.now(UTC) + timedelta(hours=3), "daily quota spent")

    text = client.get("/metrics").get_data(as_text=True)
    assert value(text, "boxpro_job_runs_total", job="jobs.tasks.raw_payload_retention") == 1
    assert value(text, "boxpro_job_failures_total", job="jobs.tasks.raw_payload_retention") == 0
    assert value(text, "boxpro_job_failures_total", job="jobs.tasks.recompute_days") == 1
    assert value(text, "boxpro_job_seconds_total", job="jobs.tasks.raw_payload_retention") > 0
    assert value(text, "boxpro_marketplace_events_total", marketplace="ebay-browse", event="calls") == 7
    assert value(text, "boxpro_marketplace_quota_exhausted", api="ebay-browse") == 1


def test_the_worker_health_command(runner, redis_db):
    from rq import Queue

    from jobs.worker import Worker

    assert runner.invoke(args=["jobs", "workers"]).exit_code == 1  # none alive
    worker = Worker([Queue("default", connection=redis_db)], connection=redis_db, name="health-probe")
    worker.register_birth()
    try:
        result = runner.invoke(args=["jobs", "workers", "--this-host"])
        assert result.exit_code == 0 and "health-probe" in result.output
    finally:
        worker.register_death()
