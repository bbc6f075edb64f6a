"""E-mail, as RQ jobs: the outbox's send job and the password-reset request.

`send_email` locks its `emails` row for one attempt (a duplicate job skips it; a sent one is never sent
again), writes the message and sends it (service/core/mail.py). Account e-mails get their token at
this moment, inside the attempt's savepoint: a token exists only if its message left. A temporary
failure (no connection, timeout, 4xx) is recorded and raised so that RQ's Retry policy tries again
(the last attempt marks the row failed, and RQ keeps the failed job); a permanent one (5xx) marks it
failed at once. Every attempt is logged.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import psycopg
from rq import get_current_job

from service.core import account_tokens, mail, outbox
from service.core.cache import connect_redis
from service.core.settings import MailSettings, Settings
from service.core.sql import query

log = logging.getLogger(__name__)


class SendFailed(RuntimeError):
    """The SMTP server did not take the message this time; RQ retries the job."""


def send_email(email_id: int) -> dict[str, Any]:
    """RQ job: one attempt at one e-mail of the outbox."""
    settings = Settings.from_env()
    job = get_current_job()
    final = job is None or not job.retries_left
    with psycopg.connect(settings.database_url, row_factory=psycopg.rows.dict_row) as conn:
        row = conn.execute(query("mail/claim"), {"id": email_id}).fetchone()
        if row is None:  # sent, given up on, or being sent by a duplicate job right now
            return {"email_id": email_id, "status": "skipped"}
        status, error, temporary = "sent", _cancelled(row), False
        if error is not None:
            status = "cancelled"
        else:
            try:
                with conn.transaction():  # a savepoint: the token is kept only if the message left
                    mail.send(settings.mail, _compose(conn, settings.mail, row))
            except mail.PermanentFailure as exc:
                status, error = "failed", str(exc)
            except mail.TemporaryFailure as exc:
                status, error, temporary = ("failed" if final else "pending"), str(exc), True
        conn.execute(query("mail/record_attempt"), {"id": email_id, "status": status, "error": error})
    level = logging.INFO if status in ("sent", "cancelled") else logging.WARNING
    extra = {"email_id": email_id, "kind": row["kind"], "status": status, "error": error}
    log.log(level, "e-mail attempt", extra=extra)
    if temporary:  # RQ retries it; after the last attempt it lands in RQ's failed registry and /metrics
        raise SendFailed(error)
    return {"email_id": email_id, "status": status}


def request_password_reset(email: str) -> dict[str, Any]:
    """RQ job: a reset e-mail for the account of `email`, if there is one. The API queued this for any
    address, so that its answer and timing say nothing about which addresses have accounts."""
    settings = Settings.from_env()
    with psycopg.connect(settings.database_url, row_factory=psycopg.rows.dict_row) as conn:
        user = conn.execute(query("auth/user_by_email"), {"email": email}).fetchone()
        if user is None:
            log.info("password reset asked for an address without an account")
            return {"status": "no account"}
        email_id = outbox.queue(conn, user["id"], account_tokens.PASSWORD_RESET)
        conn.commit()
        outbox.dispatch(conn, connect_redis(settings.redis_url), ids=[email_id])
    return {"status": "queued", "email_id": email_id}


def _cancelled(row: dict[str, Any]) -> str | None:
    """Why an e-mail should no longer go out, decided when it is sent (the user may have changed their mind)."""
    if row["kind"] == "alert" and not (row["alert_emails"] and row["email_verified_at"]):
        return "the user turned alert e-mails off" if not row["alert_emails"] else "the address is not verified"
    if row["kind"] == account_tokens.VERIFY_EMAIL and row["email_verified_at"]:
        return "the address is already verified"
    return None


def _compose(conn: psycopg.Connection[Any], settings: MailSettings, row: dict[str, Any]) -> EmailMessage:
    to, base, key = row["email"], settings.public_base_url, f"boxpro-email-{row['id']}"
    if row["kind"] == account_tokens.VERIFY_EMAIL:
        ttl = timedelta(hours=settings.email_verification_ttl_hours)
        token = account_tokens.issue(conn, row["user_id"], account_tokens.VERIFY_EMAIL, to, ttl)
        text = (
            "Welcome to BoosterBoxPro.\n\n"
            f"Confirm that this is your address by opening this link within {settings.email_verification_ttl_hours}"
            f" hours:\n\n{base}/verify-email?token={token}\n\n"
            "Alert e-mails go only to confirmed addresses. If you did not sign up, ignore this message.\n"
        )
        return mail.message(settings, to, "Confirm your e-mail address", text, message_key=key)
    if row["kind"] == account_tokens.PASSWORD_RESET:
        ttl = timedelta(minutes=settings.password_reset_ttl_minutes)
        token = account_tokens.issue(conn, row["user_id"], account_tokens.PASSWORD_RESET, to, ttl)
        text = (
            "Someone (we hope you) asked to reset the password of your BoosterBoxPro account.\n\n"
            f"Choose a new password within {settings.password_reset_ttl_minutes} minutes here:\n\n"
            f"{base}/reset-password?token={token}\n\n"
            "The link works once. Resetting signs you out everywhere. If you did not ask, ignore this message:"
            " your password stays as it is.\n"
        )
        return mail.message(settings, to, "Reset your password", text, message_key=key)
    if row["kind"] == outbox.ACCOUNT_EXISTS:
        text = (
            "Someone (we hope you) tried to create a BoosterBoxPro account with this address. It has an"
            " account already, so nothing was created and nothing changed.\n\n"
            f"Sign in here: {base}/signin\n\n"
            f"Forgot your password? Ask for a link to choose a new one here: {base}/forgot-password\n\n"
            "If it was not you, ignore this message: your account and password stay as they are.\n"
        )
        return mail.message(settings, to, "You already have a BoosterBoxPro account", text, message_key=key)
    details = json.dumps(row["details"], indent=2, sort_keys=True, default=str)
    text = (
        f"{row['message']}\n\n"
        f"Alert: {row['alert_kind']}, fired at {row['fired_at'].isoformat()}\n"
        f"Product: {row['product_name']} ({row['slug']})\n\nDetails:\n{details}\n\n"
        f"Your notifications: {base}/\n"
        "You get these because alert e-mails are on for your account; turn them off with"
        ' PATCH /api/v1/me {"alert_emails": false} or in the web client.\n'
    )
    return mail.message(settings, to, f"BoosterBoxPro alert: {row['message']}"[:200], text, message_key=key)
