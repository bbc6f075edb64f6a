"""Admin routes: ingest runs and jobs, for admins only."""

from __future__ import annotations

import pytest
from rq import Queue, SimpleWorker

from service.core.ingest import writer
from tests.helpers import queued_jobs

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
