"""Two pipeline runs at once (the scheduled run and an admin's recompute) take turns where they
rewrite the same rows, so neither fails on the other's keys and nothing is written twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import psycopg

from jobs import pipeline
from service.core.sql import query
from tests.helpers import MARKET_NOW, wait_until_blocked

METRICS = "SELECT product_id, day, floor_price, units_sold, volume_usd FROM product_metrics_daily ORDER BY 1, 2"


def test_a_run_while_another_derives_the_same_days_waits_for_it(db, market, settings):
    first, last = (MARKET_NOW - timedelta(days=20)).date(), MARKET_NOW.date()
    before = db.execute(METRICS).fetchall()
    failures: list[BaseException] = []

    def second_run() -> None:
        try:
            pipeline.run(settings.database_url, first, last)
        except BaseException as exc:  # reported by the assertion below
            failures.append(exc)

    second = threading.Thread(target=second_run)
    with psycopg.connect(settings.database_url, autocommit=True) as other, other.transaction():
        # A first run, in the middle of deriving metrics for the same days: exactly its statements.
        other.execute(query("pipeline/take_turns"))
        other.execute(query("pipeline/metrics"), {"from": first, "to": last})
        second.start()
        wait_until_blocked(settings.database_url, second.is_alive, timeout=60)
        assert second.is_alive()  # it reached the derived tables and waits on the first run
    second.join(timeout=60)
    assert not second.is_alive() and failures == []
    assert db.execute(METRICS).fetchall() == before  # recomputed the same, once
