"""Webhook delivery, as RQ jobs: one signed POST per attempt.

A delivery is a `webhook_deliveries` row written by alert evaluation (service/core/alerts.py). The
row lock taken per attempt means a duplicated job never sends twice; RQ's Retry policy repeats a
refused delivery with growing delays, and the last attempt marks it failed.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import psycopg
import requests
from rq import get_current_job

from service.core import webhooks
from service.core.settings import Settings
from service.core.sql import query

log = logging.getLogger(__name__)

_session: requests.Session | None = None


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
                address = webhooks.public_address(row["url"], allow_private=settings.webhook_allow_private)
                response = webhooks.send(
                    _http_session(),
                    row["url"],
                    row["secret"],
                    delivery_id,
                    _body(row),
                    timeout=settings.webhook_timeout_s,
                    address=address,
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
