"""The RQ job functions, run by a real RQ worker against the test Redis and database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rq import Queue, SimpleWorker

from jobs.sim import driver
from service.core import cache


def test_the_sim_tick_job_advances_the_market_and_runs_the_pipeline(db, products, settings, redis_db, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)  # the test Redis database, wherever it is
    driver.advance(settings.database_url, days=2, now=datetime.now(UTC) - timedelta(days=1), kind="sim-backfill")
    # Alerts that the tick must fire: one on the metrics, one at ingest on any new listing.
    user = db.execute("INSERT INTO users (email, password_hash) VALUES ('a@example.com', 'x') RETURNING id").fetchone()
    db.execute(
        "INSERT INTO webhooks (user_id, url, secret) VALUES (%s, 'https://hooks.example.com/x', 's')", [user["id"]]
    )
    db.execute(
        # made a day ago: the tick observes the market over the last day
        """INSERT INTO alerts (user_id, product_id, kind, threshold, created_at)
           VALUES (%(u)s, %(p)s, 'floor_above', 0.01, now()),
                  (%(u)s, %(p)s, 'listing_below', 1000000, now() - interval '1 day')""",
        {"u": user["id"], "p": products[0]},
    )
    queue = Queue("test", connection=redis_db)
    job = queue.enqueue("jobs.tasks.sim_tick")
    SimpleWorker([queue], connection=redis_db).work(burst=True)
    job.refresh()
    assert job.is_finished, job.latest_result().exc_string if job.latest_result() else job.get_status()
    result = job.return_value()
    assert result["steps"] >= 4
    assert result["pipeline"]["rows"]["metrics"] >= 3
    assert int(redis_db.get(cache.DATA_VERSION_KEY)) == 1
    assert db.execute("SELECT count(*) AS n FROM product_metrics_daily WHERE day = current_date").fetchone()["n"] == 3
    fired = db.execute("SELECT kind FROM notifications ORDER BY kind").fetchall()
    assert [r["kind"] for r in fired] == ["floor_above", "listing_below"]
    assert result["pipeline"]["rows"]["alerts_fired"] == 1  # the metric alert; the listing one fired at ingest
    queued = db.execute("SELECT count(*) AS n FROM webhook_deliveries WHERE enqueued_at IS NOT NULL").fetchone()
    assert queued["n"] == 2 and Queue("default", connection=redis_db).count == 2
