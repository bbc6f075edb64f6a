"""Wrong arguments to the commands this work added get a clear usage error and change nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from rq import Queue, Worker

from jobs import pipeline
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


def counted(text: str) -> dict[str, int]:
    """`1,234 listing_snapshots, 56 sales` -> {table: rows}."""
    return {table: int(n.replace(",", "")) for n, table in re.findall(r"\b(\d[\d,]*) ([a-z_]+)", text)}


def test_go_live_asks_about_exactly_the_rows_it_then_deletes(runner, db, products, settings):
    """The question named a count of some tables ("29,696 simulated rows") and the command deleted far
    more (listing snapshots, events, metrics): it must name what it will delete, table by table."""
    now = datetime.now(UTC)
    driver.advance(settings.database_url, days=2, now=now, kind="sim-backfill")
    pipeline.run(settings.database_url, (now - timedelta(days=2)).date(), now.date())
    asked = runner.invoke(args=["data", "go-live"], input="n\n")
    question = counted(asked.output.split(" rows: ", 1)[1].split("\n", 1)[0])
    for table in ("listing_snapshots", "listing_events", "snapshots", "sales", "product_metrics_daily"):
        assert question.get(table, 0) > 0, f"{table} missing from: {asked.output}"
    done = runner.invoke(args=["data", "go-live", "--yes"])
    assert done.exit_code == 0, done.output
    deleted = counted(done.output.split("deleted ", 1)[1].split("\n", 1)[0])
    assert deleted == {table: n for table, n in question.items() if n}


def test_jobs_run_and_forget_worker_name_what_is_wrong(runner, redis_db):
    result = runner.invoke(args=["jobs", "run", "no-such-entry"])
    assert result.exit_code == 2 and "no entry 'no-such-entry'" in result.output and "sim-tick" in result.output
    assert Queue("default", connection=redis_db).count == 0
    result = runner.invoke(args=["jobs", "forget-worker", "nobody"])
    assert result.exit_code == 0 and "no worker 'nobody' is registered" in result.output
    assert Worker.all(connection=redis_db) == []
