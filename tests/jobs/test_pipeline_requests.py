"""The pipeline runs itself: writes ask for their days, asking is debounced, the job serves the requests,
a settings change asks for a recompute (re-inferring when an inference setting changed), and admins can
start a recompute and watch its progress."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from rq import Queue, SimpleWorker
from rq.registry import ScheduledJobRegistry

from jobs import tasks
from jobs.sim import driver
from service.core import recompute
from service.core.ingest import writer
from service.core.ingest.records import Listing, ListingBatch, PricePoint, Sale, Snapshot

# The start of today (UTC): the writers refuse the future, and a day's arithmetic from midnight stays on
# its day whatever the hour (from 18:00 on, "four days ago" plus the simulated market's first 6-hour step,
# or "three days ago" plus an hour from 23:00 on, crossed into the next day). The clock runs check this.
TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)

pytestmark = pytest.mark.clock


@pytest.fixture
def worker_env(monkeypatch, settings):
    """The job functions read their settings from the environment, as in a worker process."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)


def requests(db) -> list[tuple[date, bool, bool]]:
    rows = db.execute("SELECT from_day, resummarise, reinfer FROM pipeline_requests ORDER BY id").fetchall()
    return [(r["from_day"], r["resummarise"], r["reinfer"]) for r in rows]


def work(redis_db) -> None:
    SimpleWorker([Queue("default", connection=redis_db)], connection=redis_db).work(burst=True)


def test_every_write_asks_for_the_first_day_it_touched_and_a_repeat_asks_nothing(db, products):
    day = TODAY - timedelta(days=3)
    snap = Snapshot(products[0], day, [Listing("a", "s", 100, 1)])
    writer.write_listing_batch(db, ListingBatch.from_snapshots("ebay", [snap]), now=TODAY)
    late = [Sale(products[0], day - timedelta(days=2), "late", 90, 1), Sale(products[0], day, "on-time", 95, 1)]
    writer.write_sales(db, "ebay", late, now=TODAY)
    writer.write_price_points(db, "tcgplayer", [PricePoint(products[1], TODAY, market_price=10)], now=TODAY)
    assert requests(db) == [
        (day.date(), False, False),
        ((day - timedelta(days=2)).date(), False, False),  # the late sale asks for its own day
        (TODAY.date(), False, False),
    ]
    writer.write_listing_batch(db, ListingBatch.from_snapshots("ebay", [snap]), now=TODAY)
    writer.write_sales(db, "ebay", late, now=TODAY)
    assert len(requests(db)) == 3  # nothing new was written, nothing more is asked


def test_asking_is_debounced_one_queued_job_and_one_follow_up(redis_db):
    queue = Queue("default", connection=redis_db)
    first = recompute.request_run(redis_db)
    assert recompute.request_run(redis_db) == first and queue.count == 1  # a burst: one run
    recompute.started(redis_db)  # that job started: the next request needs a follow-up
    follow_up = recompute.request_run(redis_db)
    assert follow_up != first and recompute.request_run(redis_db) == follow_up and queue.count == 2
    recompute.started(redis_db)
    later = recompute.request_run(redis_db, delay_s=30)
    assert later in ScheduledJobRegistry(queue=queue).get_job_ids() and queue.count == 2


def test_the_pipeline_job_serves_every_request_from_the_earliest_day(db, products, settings, redis_db, worker_env):
    driver.advance(settings.database_url, days=4, now=TODAY, kind="sim-backfill")
    earliest = min(day for day, _, _ in requests(db))
    assert earliest == (TODAY - timedelta(days=4)).date()
    job = Queue("default", connection=redis_db).enqueue("jobs.tasks.run_requested_pipeline")
    work(redis_db)
    result = job.latest_result().return_value
    assert result["first_day"] == earliest.isoformat()
    assert result["last_day"] == TODAY.date().isoformat() and result["rows"]["metrics"] > 0
    assert requests(db) == []
    assert tasks.run_requested_pipeline() == {"requests": 0}


def test_a_late_sale_changes_its_own_earlier_day(db, products, settings, redis_db, worker_env):
    day = TODAY - timedelta(days=3)
    for offset in range(4):
        at = day + timedelta(days=offset)
        snap = Snapshot(products[0], at, [Listing("same", "s", 100, 5)])  # no change: nothing inferred
        writer.write_listing_batch(db, ListingBatch.from_snapshots("ebay", [snap]), now=TODAY)
    tasks.run_requested_pipeline()
    sold = "SELECT units_sold FROM product_metrics_daily WHERE product_id = %s AND day = %s"
    assert db.execute(sold, [products[0], day.date()]).fetchone()["units_sold"] == 0
    writer.write_sales(db, "ebay", [Sale(products[0], day + timedelta(hours=1), "late-1", 100, 2)], now=TODAY)
    result = tasks.run_requested_pipeline()
    assert result["first_day"] == day.date().isoformat()
    assert db.execute(sold, [products[0], day.date()]).fetchone()["units_sold"] == 2


def test_a_request_made_during_a_run_stays_for_the_follow_up(db, products):
    recompute.mark(db, TODAY.date(), "first")
    seen = recompute.pending(db)
    recompute.mark(db, (TODAY - timedelta(days=9)).date(), "during the run")
    recompute.served(db, seen)
    assert requests(db) == [((TODAY - timedelta(days=9)).date(), False, False)]


def test_a_request_committed_during_a_run_stays_even_with_a_lower_id(db, products, settings):
    # A writer draws its request's id when it inserts it, and may commit after a later writer did.
    with psycopg.connect(settings.database_url) as slow_writer:
        recompute.mark(slow_writer, (TODAY - timedelta(days=5)).date(), "slow writer")
        recompute.mark(db, TODAY.date(), "quick writer")
        seen = recompute.pending(db)
        slow_writer.commit()  # its data landed after the run read the requests
    recompute.served(db, seen)
    assert requests(db) == [((TODAY - timedelta(days=5)).date(), False, False)]


def test_a_settings_change_asks_for_a_recompute_and_an_inference_setting_reinfers(
    db, products, settings, redis_db, worker_env
):
    driver.advance(settings.database_url, days=3, now=TODAY, kind="sim-backfill")
    tasks.run_requested_pipeline()
    derived = """SELECT (SELECT coalesce(sum(quantity), 0) FROM sales WHERE basis = 'inferred') AS units,
                        (SELECT count(*) FROM listing_events) AS events,
                        (SELECT sum(units_sold) FROM product_metrics_daily) AS sold"""
    before = db.execute(derived).fetchone()
    assert before["units"] > 0 and before["events"] > 0
    first_day = db.execute("SELECT min(observed_at)::date AS d FROM snapshots").fetchone()["d"]
    try:
        # No gap allowed between snapshots: no pair is diffed any more.
        db.execute("UPDATE settings SET value = 0 WHERE key = 'max_snapshot_gap_hours'")
        assert requests(db) == [(first_day, False, True)]
        result = tasks.run_requested_pipeline()
        assert "inference" in result["seconds"] and requests(db) == []
        assert db.execute(derived).fetchone() == {"units": 0, "events": 0, "sold": before["sold"] - before["units"]}
        db.execute("UPDATE settings SET value = 48 WHERE key = 'max_snapshot_gap_hours'")
        tasks.run_requested_pipeline()
        assert db.execute(derived).fetchone() == before  # derived again, exactly as the first time
        db.execute("UPDATE settings SET value = 0.25 WHERE key = 'near_floor_band'")
        assert requests(db) == [(first_day, True, False)]
    finally:
        db.execute("UPDATE settings SET value = 48 WHERE key = 'max_snapshot_gap_hours'")
        db.execute("UPDATE settings SET value = 0.20 WHERE key = 'near_floor_band'")


def test_an_admin_recomputes_a_range_as_a_job_and_watches_its_progress(
    client, admin, db, products, settings, redis_db, worker_env
):
    driver.advance(settings.database_url, days=3, now=TODAY, kind="sim-backfill")
    first, last = (TODAY - timedelta(days=3)).date().isoformat(), TODAY.date().isoformat()
    started = client.post("/api/v1/admin/recompute", json={"from": first, "to": last}, headers=admin)
    assert started.status_code == 202, started.get_json()
    job = started.get_json()
    assert (job["name"], job["status"], job["progress"]) == ("recompute", "queued", None)
    work(redis_db)
    done = client.get(f"/api/v1/admin/jobs/{job['id']}", headers=admin).get_json()
    assert done["status"] == "finished"
    assert done["progress"]["done"] == done["progress"]["total"] > 3
    assert done["result"]["rows"]["metrics"] > 0
    queued = Queue("default", connection=redis_db).count
    for body in (
        {"from": last, "to": first},  # upside down
        {"from": "x", "to": last},
        {"from": first},  # no end
        {"from": first, "to": last, "everything": True},  # an unknown field
        {"from": first, "to": last, "resummarise": "maybe"},
    ):
        refused = client.post("/api/v1/admin/recompute", json=body, headers=admin)
        assert (refused.status_code, refused.get_json()["code"]) == (422, "validation_error"), body
    assert Queue("default", connection=redis_db).count == queued  # nothing was queued
