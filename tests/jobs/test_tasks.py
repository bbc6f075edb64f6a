"""The RQ job functions, run by a real RQ worker against the test Redis and database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rq import Queue, SimpleWorker

from jobs.sim import driver
from service.core import cache


@pytest.mark.clock
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


def test_record_retention_deletes_finished_records_and_expired_tokens_past_the_setting(
    db, products, settings, redis_db, monkeypatch
):
    """Run by a real worker: what is older than `record_retention_days` and done with goes; pending
    work, recent records and live tokens stay."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    user = db.execute("INSERT INTO users (email, password_hash) VALUES ('a@example.com', 'x') RETURNING id").fetchone()
    u = {"u": user["id"], "p": products[0]}
    db.execute("UPDATE settings SET value = 30 WHERE key = 'record_retention_days'")
    try:
        db.execute(
            """INSERT INTO emails (user_id, kind, status, created_at, finished_at) VALUES
                   (%(u)s, 'verify_email', 'sent', now() - interval '40 days', now() - interval '40 days'),
                   (%(u)s, 'password_reset', 'failed', now() - interval '40 days', now() - interval '31 days'),
                   (%(u)s, 'verify_email', 'sent', now() - interval '40 days', now() - interval '20 days'),
                   (%(u)s, 'verify_email', 'pending', now() - interval '40 days', NULL)""",
            u,
        )
        notification = db.execute(
            """INSERT INTO notifications (user_id, product_id, kind, fired_at, message, details)
               VALUES (%(u)s, %(p)s, 'floor_above', now(), 'm', '{}') RETURNING id""",
            u,
        ).fetchone()["id"]
        db.execute(
            """INSERT INTO webhook_deliveries (notification_id, user_id, url, status, created_at, finished_at)
               SELECT %(n)s, %(u)s, 'https://x.example', status, now() - made, now() - done
               FROM (VALUES ('delivered', interval '60 days', interval '60 days'),
                            ('pending', interval '60 days', NULL),
                            ('failed', interval '2 days', interval '1 day')) AS d (status, made, done)""",
            {**u, "n": notification},
        )
        db.execute(
            """INSERT INTO account_tokens (token_hash, user_id, purpose, email, expires_at) VALUES
                   ('\\x01', %(u)s, 'password_reset', 'a@example.com', now() - interval '31 days'),
                   ('\\x02', %(u)s, 'verify_email', 'a@example.com', now() - interval '29 days'),
                   ('\\x03', %(u)s, 'verify_email', 'a@example.com', now() + interval '1 day')""",
            u,
        )
        db.execute(
            """INSERT INTO refresh_tokens (jti, family, user_id, expires_at) VALUES
                   (gen_random_uuid(), gen_random_uuid(), %(u)s, now() - interval '45 days'),
                   (gen_random_uuid(), gen_random_uuid(), %(u)s, now() + interval '10 days')""",
            u,
        )
        queue = Queue("test", connection=redis_db)
        job = queue.enqueue("jobs.tasks.record_retention")
        SimpleWorker([queue], connection=redis_db).work(burst=True)
        job.refresh()
        assert job.return_value() == {"emails": 2, "webhook_deliveries": 1, "account_tokens": 1, "refresh_tokens": 1}
        left = db.execute("SELECT status FROM emails ORDER BY status").fetchall()
        assert [r["status"] for r in left] == ["pending", "sent"]
        left = db.execute("SELECT status FROM webhook_deliveries ORDER BY status").fetchall()
        assert [r["status"] for r in left] == ["failed", "pending"]
        assert db.execute("SELECT count(*) AS n FROM account_tokens").fetchone()["n"] == 2
        assert db.execute("SELECT count(*) AS n FROM refresh_tokens").fetchone()["n"] == 1
        assert db.execute("SELECT count(*) AS n FROM notifications").fetchone()["n"] == 1  # the inbox stays
    finally:
        db.execute("UPDATE settings SET value = 90 WHERE key = 'record_retention_days'")
