"""Alerts: evaluation (SQL, sql/functions/alerts.sql) and webhook delivery (RQ jobs).

Evaluation writes notifications and `pending` webhook deliveries in one statement. `dispatch`
hands pending deliveries to RQ after the evaluating transaction committed; a delivery job sends one
signed POST and RQ's Retry policy repeats it with growing delays. A delivery that loses its job
(Redis flushed, enqueue failed) is picked up again by the `webhook-sweep` schedule entry, so
nothing is lost; the row lock taken per attempt means a duplicated job never sends twice.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
import redis
import requests
from rq import Queue, Retry, get_current_job

from service import webhooks
from service.settings import Settings
from service.sql import query

log = logging.getLogger(__name__)

QUEUE = "default"
# Delays between attempts (seconds): 6 attempts over about 1.5 hours.
RETRY = Retry(max=5, interval=[10, 60, 300, 900, 3600])
# A pending delivery whose job was enqueued longer ago than every retry could take is re-enqueued.
STALE_AFTER = "3 hours"

_session: requests.Session | None = None


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
    """Enqueue a delivery job for each pending delivery without a live job. Returns how many."""
    cur = conn.cursor(row_factory=psycopg.rows.tuple_row)
    ids = [r[0] for r in cur.execute(query("alerts/pending_deliveries"), {"stale_after": STALE_AFTER, "limit": limit})]
    if not ids:
        return 0
    queue = Queue(QUEUE, connection=client)
    enqueued = []
    try:
        for delivery_id in ids:
            queue.enqueue(
                deliver_webhook,
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


class DeliveryFailed(RuntimeError):
    """The receiver did not accept the delivery; RQ retries the job."""


def _body(row: dict[str, Any]) -> bytes:
    payload = {
        "event": "alert.fired",
        "delivery_id": row["id"],
        "notification": {
            "id": row["notification_id"],
            "alert_id": row["alert_id"],
            "kind": row["kind"],
            "fired_at": row["fired_at"].isoformat(),
            "message": row["message"],
            "details": row["details"],
            "product": {"id": row["product_id"], "slug": row["slug"], "name": row["name"]},
        },
    }
    return json.dumps(payload, separators=(",", ":"), default=str).encode()


def _http_session() -> requests.Session:
    global _session
    if _session is None:
        _session = requests.Session()
    return _session


def deliver_webhook(delivery_id: int) -> dict[str, Any]:
    """RQ job: one signed POST of one delivery. Raises DeliveryFailed while RQ has retries left."""
    settings = Settings.from_env()
    job = get_current_job()
    final = job is None or not job.retries_left
    with psycopg.connect(settings.database_url, row_factory=psycopg.rows.dict_row) as conn:
        row = conn.execute(query("alerts/claim_delivery"), {"id": delivery_id}).fetchone()
        if row is None:  # delivered, given up on, or being sent by a duplicate job right now
            return {"delivery_id": delivery_id, "status": "skipped"}
        status, http_status, error = "delivered", None, None
        if row["secret"] is None:
            status, error = "failed", "the user removed the webhook"
        else:
            try:
                if not settings.webhook_allow_private:
                    webhooks.resolve_public(row["url"])
                response = webhooks.send(
                    _http_session(),
                    row["url"],
                    row["secret"],
                    delivery_id,
                    _body(row),
                    timeout=settings.webhook_timeout_s,
                )
                http_status = response.status_code
                if not 200 <= http_status < 300:
                    status, error = "pending", f"receiver answered HTTP {http_status}"
            except webhooks.UnsafeUrl as exc:
                status, error = "failed", str(exc)
            except requests.RequestException as exc:
                status, error = "pending", f"{type(exc).__name__}: {exc}"[:500]
        if status == "pending" and final:
            status = "failed"
        conn.execute(
            query("alerts/record_attempt"),
            {"id": delivery_id, "status": status, "http_status": http_status, "error": error},
        )
    log.info(
        "webhook delivery attempt",
        extra={"delivery_id": delivery_id, "status": status, "http_status": http_status, "error": error},
    )
    if status == "pending":
        raise DeliveryFailed(error)
    return {"delivery_id": delivery_id, "status": status, "http_status": http_status}
