"""Admin routes: ingest runs and jobs, for admins only."""

from __future__ import annotations

import pytest
from rq import Queue, SimpleWorker
from rq.job import Job

from jobs.worker import job_name
from service.core.ingest import writer
from tests.helpers import queued_jobs

JOB_ROUTES = [
    ("post", "/api/v1/admin/jobs", {"name": "sim-tick"}),
    ("post", "/api/v1/admin/recompute", {"from": "2026-02-01", "to": "2026-02-03"}),
    ("get", "/api/v1/admin/jobs/some-job", None),
]
ROUTES = [
    ("get", "/api/v1/admin/ingest-runs", None),
    ("post", "/api/v1/admin/jobs", {"name": "sim-tick"}),
    ("get", "/api/v1/admin/jobs/some-job", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_admin_routes_refuse_anonymous_and_ordinary_users(client, user, redis_db, method, path, body):
    assert getattr(client, method)(path, json=body).status_code == 401
    refused = getattr(client, method)(path, json=body, headers=user)
    assert (refused.status_code, refused.get_json()["code"]) == (403, "forbidden")
    assert queued_jobs(redis_db) == []


def test_a_demoted_admin_loses_access_at_once(client, admin, db):
    assert client.get("/api/v1/admin/ingest-runs", headers=admin).status_code == 200
    db.execute("UPDATE users SET role = 'user'")
    assert client.get("/api/v1/admin/ingest-runs", headers=admin).status_code == 403


def test_ingest_runs_are_listed_newest_first_and_filtered(client, admin, db):
    first = writer.start_run(db, "fetch", marketplace="ebay")
    writer.finish_run(db, first, writer.WriteResult(), status="failed", error="boom")
    writer.start_run(db, "sim-tick")
    body = client.get("/api/v1/admin/ingest-runs", headers=admin).get_json()
    assert [r["kind"] for r in body["data"]] == ["sim-tick", "fetch"]
    failed = client.get("/api/v1/admin/ingest-runs?status=failed", headers=admin).get_json()
    assert [(r["id"], r["error"]) for r in failed["data"]] == [(first, "boom")]
    assert client.get("/api/v1/admin/ingest-runs?status=exploded", headers=admin).status_code == 422


def test_ingest_runs_show_http_errors_and_what_a_replay_replayed(client, admin, db):
    """docs/OPERATIONS.md promises both; the list left them out (issue 19)."""
    original = writer.start_run(db, "fetch", marketplace="ebay")
    db.execute("UPDATE ingest_runs SET http_errors = 3 WHERE id = %s", [original])
    replay = writer.start_run(db, "replay", marketplace="ebay")
    db.execute("UPDATE ingest_runs SET replay_of = %s WHERE id = %s", [original, replay])
    rows = client.get("/api/v1/admin/ingest-runs", headers=admin).get_json()["data"]
    assert [(r["id"], r["http_errors"], r["replay_of"]) for r in rows] == [(replay, 0, original), (original, 3, None)]


def test_trigger_a_job_and_read_its_state(client, admin, redis_db, products, settings, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    triggered = client.post("/api/v1/admin/jobs", json={"name": "raw-payload-retention"}, headers=admin)
    assert triggered.status_code == 202
    job = triggered.get_json()
    assert (job["name"], job["status"]) == ("raw-payload-retention", "queued")
    SimpleWorker([Queue("default", connection=redis_db)], connection=redis_db).work(burst=True)
    done = client.get(f"/api/v1/admin/jobs/{job['id']}", headers=admin).get_json()
    assert done["status"] == "finished"
    assert done["result"] == {"chunks_dropped": 0}
    assert client.post("/api/v1/admin/jobs", json={"name": "rm -rf"}, headers=admin).status_code == 422
    assert client.get("/api/v1/admin/jobs/no-such-job", headers=admin).status_code == 404
    assert client.get("/api/v1/admin/jobs/bad%20id!", headers=admin).status_code == 400


@pytest.mark.parametrize(("method", "path", "body"), JOB_ROUTES)
def test_job_routes_answer_503_with_retry_after_while_redis_is_down(admin, redis_down_app, method, path, body):
    """Issue 19, defect 3: rq's ConnectionError was a 500; an outage is a 503 the client can retry."""
    response = getattr(redis_down_app.test_client(), method)(path, json=body, headers=admin)
    assert response.status_code == 503, response.get_json()
    assert int(response.headers["Retry-After"]) > 0
    assert response.get_json()["code"] == "unavailable"


def test_every_way_of_running_a_job_names_it_alike_and_gives_it_one_more_run(client, admin, runner, redis_db):
    """Issue 19, defect 4 and item 17: the admin API queued jobs without a Retry (a killed worker lost
    them), and `flask jobs run` without a name (GET /admin/jobs/{id} showed none, /metrics split)."""
    ids = [
        client.post("/api/v1/admin/jobs", json={"name": "images"}, headers=admin).get_json()["id"],
        client.post(
            "/api/v1/admin/recompute", json={"from": "2026-02-01", "to": "2026-02-03"}, headers=admin
        ).get_json()["id"],
    ]
    ran = runner.invoke(args=["jobs", "run", "images"])
    assert ran.exit_code == 0, ran.output
    ids.append(ran.output.split()[-1])  # "enqueued images as job <id>"
    names = [client.get(f"/api/v1/admin/jobs/{job_id}", headers=admin).get_json()["name"] for job_id in ids]
    assert names == ["images", "recompute", "images"]
    jobs = [Job.fetch(job_id, connection=redis_db) for job_id in ids]
    assert [(job.retries_left, job.retry_intervals) for job in jobs] == [(1, [0])] * 3
    assert {job_name(job) for job in jobs} == {"images", "recompute"}  # the worker's statistics' label
