"""Alerts: evaluation in SQL (sql/functions/alerts.sql), and handing deliveries to RQ.

Evaluation writes notifications, `pending` webhook deliveries and alert e-mails (for verified users
who opted in) in one statement. `dispatch` hands pending deliveries and e-mails (service/core/outbox.py)
to RQ after the evaluating transaction committed; the delivery job
(jobs/webhooks.py) sends one signed POST and RQ's Retry policy repeats it with growing delays. A
delivery that loses its job (Redis flushed, enqueue failed) is picked up again by the `webhook-sweep`
schedule entry, so nothing is lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
import redis
from rq import Queue, Retry

from service.core import outbox
from service.core.sql import query

log = logging.getLogger(__name__)

QUEUE = "default"
DELIVERY_JOB = "jobs.webhooks.deliver_webhook"  # by name: the core never imports jobs/
# Delays between attempts (seconds): 6 attempts over about 1.5 hours.
RETRY = Retry(max=5, interval=[10, 60, 300, 900, 3600])
# A pending delivery whose job was enqueued longer ago than every retry could take is re-enqueued.
STALE_AFTER = "3 hours"


@dataclass(frozen=True)
class Fired:
    notifications: int = 0
    deliveries: int = 0


def _fired(row: tuple[Any, ...] | None) -> Fired:
    return Fired(int(row[0]), int(row[1])) if row else Fired()


def evaluate_metrics(conn: psycopg.Connection[Any], day: date, now: datetime | None = None) -> Fired:
    """Alerts on the metrics of `day` (run by the pipeline after it computed that day)."""
    with conn.transaction():
        row = (
            conn.cursor(row_factory=psycopg.rows.tuple_row)
            .execute(query("alerts/evaluate_metrics"), {"day": day, "now": now})
            .fetchone()
        )
    return _fired(row)


def evaluate_listings(
    conn: psycopg.Connection[Any],
    marketplace: str,
    product_ids: list[int],
    since: datetime,
    now: datetime | None = None,
) -> Fired:
    """`listing_below` alerts over the listing events observed since `since` (run at ingest time,
    after inference, in the ingest transaction)."""
    row = (
        conn.cursor(row_factory=psycopg.rows.tuple_row)
        .execute(
            query("alerts/evaluate_listings"),
            {"marketplace": marketplace, "product_ids": product_ids, "since": since, "now": now},
        )
        .fetchone()
    )
    return _fired(row)


def dispatch(conn: psycopg.Connection[Any], client: redis.Redis, limit: int = 1000) -> int:
    """Enqueue a job for each pending webhook delivery and e-mail without a live job. Returns how many."""
    return _dispatch_deliveries(conn, client, limit) + outbox.dispatch(conn, client)


def _dispatch_deliveries(conn: psycopg.Connection[Any], client: redis.Redis, limit: int) -> int:
    cur = conn.cursor(row_factory=psycopg.rows.tuple_row)
    ids = [r[0] for r in cur.execute(query("alerts/pending_deliveries"), {"stale_after": STALE_AFTER, "limit": limit})]
    if not ids:
        return 0
    queue = Queue(QUEUE, connection=client)
    enqueued = []
    try:
        for delivery_id in ids:
            queue.enqueue(
                DELIVERY_JOB,
                delivery_id,
                retry=RETRY,
                result_ttl=24 * 3600,
                failure_ttl=7 * 24 * 3600,
            )
            enqueued.append(delivery_id)
    except redis.RedisError:
        # The rest stay pending without enqueued_at; the next dispatch or sweep takes them.
        log.warning("could not enqueue webhook deliveries", extra={"pending": len(ids) - len(enqueued)}, exc_info=True)
    if enqueued:
        with conn.transaction():
            cur.execute(query("alerts/mark_enqueued"), {"ids": enqueued})
    return len(enqueued)
