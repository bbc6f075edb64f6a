"""TimescaleDB's own background jobs are reported: /metrics, /health/ready and `flask rollups jobs` name
one whose last run failed, and leave alone one that is refused for the license.

Both editions carry TimescaleDB's job 3 (the job-history retention policy), and its scheduler runs it
when the database starts: on the Apache-2 edition it is refused for the license, which is a real
failing row to read. A failure of another kind cannot be provoked on that edition (alter_job and
run_job are refused too), so `failed_run` records one in TimescaleDB's own catalog exactly as its
scheduler does: the error the licensed 2.19.3 build gave every job on Debian's PostgreSQL 15.20
(`cannot drop portal "" while it is being set up`, SQLSTATE 24000). Everything after that is read
through TimescaleDB's own views, as on a server where the job really failed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from service.app import create_app
from service.core.background_jobs import FAILING, OK, UNSUPPORTED, background_jobs
from tests.helpers import make_settings

RETENTION_JOB = 3
PORTAL_ERROR = 'cannot drop portal "" while it is being set up'


def job(db: psycopg.Connection[Any], job_id: int) -> Any:
    return next(j for j in background_jobs(db) if j.job_id == job_id)


def license_of(db: psycopg.Connection[Any]) -> str:
    return db.execute("SHOW timescaledb.license").fetchone()["timescaledb.license"]


def first_run(db: psycopg.Connection[Any], job_id: int, timeout_s: float = 60) -> None:
    """TimescaleDB's scheduler runs the job soon after the database starts; wait for it."""
    deadline = time.monotonic() + timeout_s
    while job(db, job_id).last_run_status is None:
        assert time.monotonic() < deadline, f"TimescaleDB's scheduler did not run job {job_id} in {timeout_s} s"
        time.sleep(0.5)


@pytest.fixture
def failed_run(db: psycopg.Connection[Any]) -> Iterator[None]:
    """A run of job 3 that failed with the licensed build's portal error, recorded in TimescaleDB's
    catalog as its scheduler records one; the catalog is put back as it was afterwards."""
    # As JSON: the row holds '-infinity' ("never"), which Python's datetime cannot.
    saved = db.execute(
        "SELECT to_jsonb(s) AS row FROM _timescaledb_internal.bgw_job_stat s WHERE job_id = %s", [RETENTION_JOB]
    ).fetchone()
    db.execute(
        """INSERT INTO _timescaledb_internal.bgw_job_stat AS s
               (job_id, last_start, last_finish, next_start, last_successful_finish, last_run_success,
                total_runs, total_duration, total_duration_failures, total_successes, total_failures,
                total_crashes, consecutive_failures, consecutive_crashes)
           VALUES (%s, now(), now(), now() + interval '1 hour', '-infinity', false, 1, '0', '0', 0, 1, 0, 1, 0)
           ON CONFLICT (job_id) DO UPDATE SET last_start = now(), last_finish = now(), last_run_success = false,
               total_runs = s.total_runs + 1, total_failures = s.total_failures + 1,
               consecutive_failures = s.consecutive_failures + 1""",
        [RETENTION_JOB],
    )
    error = {"message": PORTAL_ERROR, "sqlerrcode": "24000", "proc_name": "policy_job_stat_history_retention"}
    history = db.execute(
        """INSERT INTO _timescaledb_internal.bgw_job_stat_history
               (job_id, pid, execution_start, execution_finish, succeeded, data)
           VALUES (%s, pg_backend_pid(), now(), now() + interval '1 millisecond', false, %s) RETURNING id""",
        [RETENTION_JOB, json.dumps({"error_data": error})],
    ).fetchone()["id"]
    yield
    db.execute("DELETE FROM _timescaledb_internal.bgw_job_stat_history WHERE id = %s", [history])
    db.execute("DELETE FROM _timescaledb_internal.bgw_job_stat WHERE job_id = %s", [RETENTION_JOB])
    if saved is not None:
        db.execute(
            "INSERT INTO _timescaledb_internal.bgw_job_stat"
            " SELECT * FROM jsonb_populate_record(NULL::_timescaledb_internal.bgw_job_stat, %s)",
            [json.dumps(saved["row"])],
        )


def metric_samples(text: str) -> dict[tuple[str, str, str], float]:
    return {
        (sample.name, sample.labels.get("job_id", ""), sample.labels.get("job", "")): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("boxpro_timescaledb_job")
    }


def test_a_job_refused_for_the_license_is_unsupported_not_failing(client, db):
    if license_of(db) != "apache":
        pytest.skip("the retention job runs on the licensed edition")
    first_run(db, RETENTION_JOB)
    retention = job(db, RETENTION_JOB)
    assert (retention.last_run_status, retention.last_error_code) == ("Failed", "0A000")
    assert retention.state == UNSUPPORTED

    ready = client.get("/health/ready").get_json()
    assert (ready["status"], ready["failing"], ready["warnings"]) == ("ok", [], [])
    assert ready["checks"]["timescaledb_jobs"]["unsupported_jobs"] == ["policy_job_stat_history_retention"]
    samples = metric_samples(client.get("/metrics").get_data(as_text=True))
    assert samples[("boxpro_timescaledb_job_failing", "3", "policy_job_stat_history_retention")] == 0


def test_a_failing_job_is_named_by_metrics_readiness_and_the_cli(client, db, runner, failed_run):
    retention = job(db, RETENTION_JOB)
    assert (retention.state, retention.last_error_code, retention.last_error) == (FAILING, "24000", PORTAL_ERROR)

    # Readiness: a warning, not unready: the pipeline refreshes what it needs itself.
    response = client.get("/health/ready")
    assert response.status_code == 200
    ready = response.get_json()
    assert (ready["status"], ready["failing"], ready["warnings"]) == ("degraded", [], ["timescaledb_jobs"])
    [failing] = ready["checks"]["timescaledb_jobs"]["failing_jobs"]
    assert failing["job_id"] == RETENTION_JOB and failing["job"] == "policy_job_stat_history_retention"
    assert failing["last_error"] == PORTAL_ERROR and failing["total_failures"] == retention.total_failures

    samples = metric_samples(client.get("/metrics").get_data(as_text=True))
    key = ("3", "policy_job_stat_history_retention")
    assert samples[("boxpro_timescaledb_job_failing", *key)] == 1
    assert samples[("boxpro_timescaledb_job_failures_total", *key)] == retention.total_failures
    assert samples[("boxpro_timescaledb_job_runs_total", *key)] == retention.total_runs

    jobs = runner.invoke(args=["rollups", "jobs"])
    assert jobs.exit_code == 1
    assert "policy_job_stat_history_retention" in jobs.output and FAILING in jobs.output
    assert f"last error (24000): {PORTAL_ERROR}" in jobs.output
    assert "failing TimescaleDB background jobs: policy_job_stat_history_retention" in jobs.output
    listed = runner.invoke(args=["rollups", "list"])
    assert listed.exit_code == 0 and "background jobs failing: policy_job_stat_history_retention" in listed.output

    # The next run succeeds: nothing is failing any more.
    db.execute(
        "UPDATE _timescaledb_internal.bgw_job_stat SET last_run_success = true, total_runs = total_runs + 1,"
        " total_successes = total_successes + 1, consecutive_failures = 0 WHERE job_id = %s",
        [RETENTION_JOB],
    )
    assert job(db, RETENTION_JOB).state == OK
    ready = client.get("/health/ready").get_json()
    assert (ready["status"], ready["warnings"]) == ("ok", [])
    samples = metric_samples(client.get("/metrics").get_data(as_text=True))
    assert samples[("boxpro_timescaledb_job_failing", *key)] == 0
    assert runner.invoke(args=["rollups", "jobs"]).exit_code == 0


def test_a_refresh_policy_is_named_by_its_rollup(db):
    if license_of(db) != "timescale":
        pytest.skip("refresh policies exist on the licensed edition only")
    names = {row["name"] for row in db.execute("SELECT name FROM rollup_registry")}
    policies = [j for j in background_jobs(db) if j.application_name.startswith("Refresh Continuous Aggregate")]
    assert policies and {j.job for j in policies} <= names


def test_without_the_database_metrics_still_answer(redis_db):
    app = create_app(make_settings(database_url="postgresql://postgres@127.0.0.1:1/boxpro"))
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    assert "boxpro_timescaledb_job" not in response.get_data(as_text=True)
    app.extensions["boxpro.db"].close()
