"""The e-mail outbox: one `emails` row per message, handed to RQ after the writing transaction committed.

The send job (jobs/mail.py, named here by string: the core never imports jobs/) locks its row for an
attempt and records the outcome, so a retried or duplicated job never sends a message twice and no
failure goes unrecorded. A row whose job was lost (Redis flushed, enqueue failed) is picked up again
by the `webhook-sweep` schedule entry, as webhook deliveries are.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import psycopg
import redis
from rq import Queue, Retry

from service.core.sql import query

log = logging.getLogger(__name__)

QUEUE = "default"
SEND_JOB = "jobs.mail.send_email"
RESET_REQUEST_JOB = "jobs.mail.request_password_reset"
# The e-mail to an address that has an account, when someone registers it again (no token: it says how
# to sign in, or to ask for a password reset).
ACCOUNT_EXISTS = "account_exists"
# Delays between attempts (seconds): 5 attempts over about 20 minutes; a reset link is wanted now or never.
RETRY = Retry(max=4, interval=[10, 60, 300, 900])
STALE_AFTER = "1 hour"


def queue(conn: psycopg.Connection[Any], user_id: int, kind: str) -> int:
    """Write an account e-mail (verify_email, password_reset, account_exists) into the outbox; `dispatch`
    after commit."""
    row = conn.execute(query("mail/queue"), {"user_id": user_id, "kind": kind}).fetchone()
    assert row is not None
    return int(row["id"] if isinstance(row, dict) else row[0])


def dispatch(conn: psycopg.Connection[Any], client: redis.Redis, ids: Sequence[int] | None = None) -> int:
    """Enqueue a send job for each pending e-mail without a live job (only `ids`, when given).
    Returns how many were enqueued; the rest stay pending for the next dispatch or the sweep."""
    cur = conn.cursor(row_factory=psycopg.rows.tuple_row)
    params = {"stale_after": STALE_AFTER, "ids": list(ids) if ids is not None else None, "limit": 1000}
    pending = [r[0] for r in cur.execute(query("mail/pending"), params)]
    if not pending:
        return 0
    rq_queue = Queue(QUEUE, connection=client)
    enqueued = []
    try:
        for email_id in pending:
            rq_queue.enqueue(SEND_JOB, email_id, retry=RETRY, result_ttl=24 * 3600, failure_ttl=7 * 24 * 3600)
            enqueued.append(email_id)
    except redis.RedisError:
        log.warning("could not enqueue e-mails", extra={"pending": len(pending) - len(enqueued)}, exc_info=True)
    if enqueued:
        with conn.transaction():
            cur.execute(query("mail/mark_enqueued"), {"ids": enqueued})
    return len(enqueued)


def request_password_reset(client: redis.Redis, email: str) -> None:
    """Hand a reset request to a job, whether or not the address has an account: the request does the
    same work either way (no timing hint), and the job finds out. Raises redis.RedisError when it
    cannot be queued."""
    Queue(QUEUE, connection=client).enqueue(
        RESET_REQUEST_JOB, email, result_ttl=600, failure_ttl=7 * 24 * 3600, retry=Retry(max=3, interval=[5, 30, 120])
    )
