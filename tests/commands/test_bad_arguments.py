"""Wrong arguments to the commands this work added get a clear usage error and change nothing."""

from __future__ import annotations

from rq import Queue, Worker

from jobs.sim import driver
from service.core import data_mode


def counts(db) -> tuple[int, int, int]:
    row = db.execute(
        "SELECT (SELECT count(*) FROM products) AS p, (SELECT count(*) FROM snapshots) AS s,"
        " (SELECT count(*) FROM product_metrics_daily) AS m"
    ).fetchone()
    return row["p"], row["s"], row["m"]


def test_data_init_refuses_bad_arguments_before_doing_anything(runner, db):
    for args, message in (
        (["--backfill-days", "0"], "0 is not in the range"),
        (["--backfill-days", "many"], "is not a valid integer"),
        (["--catalog", "/no/such/file.csv"], "does not exist"),
    ):
        result = runner.invoke(args=["data", "init", *args])
        assert result.exit_code == 2, result.output
        assert message in result.output
    assert counts(db) == (0, 0, 0)


def test_go_live_asks_first_and_a_no_changes_nothing(runner, db, products, settings):
    driver.advance(settings.database_url, days=1, kind="sim-backfill")
    before = counts(db)
    result = runner.invoke(args=["data", "go-live"], input="n\n")
    assert result.exit_code == 1 and "Aborted" in result.output
    assert data_mode.current(db) == "demo" and counts(db) == before


def test_jobs_run_and_forget_worker_name_what_is_wrong(runner, redis_db):
    result = runner.invoke(args=["jobs", "run", "no-such-entry"])
    assert result.exit_code == 2 and "no entry 'no-such-entry'" in result.output and "sim-tick" in result.output
    assert Queue("default", connection=redis_db).count == 0
    result = runner.invoke(args=["jobs", "forget-worker", "nobody"])
    assert result.exit_code == 0 and "no worker 'nobody' is registered" in result.output
    assert Worker.all(connection=redis_db) == []
