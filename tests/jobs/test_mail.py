"""The outbox's jobs (jobs/mail.py) run by a real RQ worker, sending to a real SMTP server on loopback:
each e-mail sent once, temporary failures retried, permanent ones and the last attempt recorded as
failed, tokens kept only for messages that left, alert e-mails once per firing."""

from __future__ import annotations

import logging
from datetime import date

import psycopg
import pytest
from rq import Queue

from jobs.mail import request_password_reset, send_email
from service.core import account_tokens, alerts, outbox
from tests.fakes.smtp import refused_port
from tests.helpers import link_token, metrics, run_jobs

DAY = date(2026, 3, 1)


def a_user(db, *, verified: bool = False, alert_emails: bool = False) -> int:
    row = db.execute(
        """INSERT INTO users (email, password_hash, email_verified_at, alert_emails)
           VALUES ('ann@example.com', 'x', CASE WHEN %s THEN now() END, %s) RETURNING id""",
        [verified, alert_emails],
    ).fetchone()
    return int(row["id"])


def queued(db, user_id: int, kind: str = account_tokens.VERIFY_EMAIL) -> int:
    return outbox.queue(db, user_id, kind)


def emails(db) -> list[dict]:
    return db.execute("SELECT * FROM emails ORDER BY id").fetchall()


def tokens(db) -> list[dict]:
    return db.execute("SELECT * FROM account_tokens ORDER BY created_at").fetchall()


def test_a_verification_email_is_sent_once_with_a_token_stored_hashed(db, redis_db, smtp):
    user = a_user(db)
    email_id = queued(db, user)
    assert outbox.dispatch(db, redis_db) == 1
    assert outbox.dispatch(db, redis_db) == 0  # it has a live job
    run_jobs(redis_db)
    message = smtp.last()
    assert message["To"] == "ann@example.com" and message["Subject"] == "Confirm your e-mail address"
    assert "https://boxpro.example/verify-email?token=" in message.get_content()
    token = link_token(message, "verify-email")
    [stored] = tokens(db)
    assert bytes(stored["token_hash"]) == account_tokens.digest(token)  # only the hash
    assert token not in str(stored)
    assert (stored["purpose"], stored["email"]) == ("verify_email", "ann@example.com")
    [row] = emails(db)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 1, None)
    # A duplicated job (a retry after a lost acknowledgement) sends nothing more.
    assert send_email(email_id)["status"] == "skipped"
    assert len(smtp.messages) == 1


def test_a_temporary_failure_is_retried_and_only_the_sent_token_exists(db, redis_db, smtp):
    queued(db, a_user(db), account_tokens.PASSWORD_RESET)
    smtp.replies = ["451 4.3.0 Try again later"]
    outbox.dispatch(db, redis_db)
    run_jobs(redis_db)
    [row] = emails(db)
    assert (row["status"], row["attempts"]) == ("sent", 2)
    [message] = smtp.messages
    assert "https://boxpro.example/reset-password?token=" in message.get_content()
    [stored] = tokens(db)  # the first attempt's token went with its failure
    assert bytes(stored["token_hash"]) == account_tokens.digest(link_token(message, "reset-password"))


def test_a_permanent_failure_is_recorded_and_not_retried(db, redis_db, smtp, caplog):
    queued(db, a_user(db))
    smtp.replies = ["550 5.1.1 No such user here", "250 would have been accepted"]
    outbox.dispatch(db, redis_db)
    with caplog.at_level(logging.WARNING, logger="jobs.mail"):
        run_jobs(redis_db)
    [row] = emails(db)
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert row["last_error"].startswith("SMTP 550") and row["finished_at"] is not None
    assert smtp.replies == ["250 would have been accepted"]  # no second attempt was made
    assert tokens(db) == []
    assert any(r.msg == "e-mail attempt" and r.status == "failed" for r in caplog.records)


def test_an_unreachable_server_is_retried_then_given_up_and_recorded(db, redis_db, smtp, monkeypatch):
    monkeypatch.setenv("SMTP_PORT", str(refused_port()))
    queued(db, a_user(db))
    outbox.dispatch(db, redis_db)
    run_jobs(redis_db)
    [row] = emails(db)
    assert (row["status"], row["attempts"]) == ("failed", 3)  # the first attempt and two retries
    assert "ConnectionRefused" in row["last_error"]
    assert tokens(db) == []
    failed = Queue("default", connection=redis_db).failed_job_registry
    assert failed.count == 1  # and RQ keeps the failed job for operators


def test_a_silent_server_times_out_and_the_retry_sends(db, redis_db, smtp, monkeypatch):
    monkeypatch.setenv("SMTP_TIMEOUT_S", "0.5")
    smtp.stall_s, smtp.stalls = 3.0, 1
    queued(db, a_user(db))
    outbox.dispatch(db, redis_db)
    run_jobs(redis_db)
    [row] = emails(db)
    assert row["status"] == "sent" and row["attempts"] == 2
    assert len(smtp.messages) == 1


def test_lost_jobs_are_swept_up(db, redis_db, smtp):
    queued(db, a_user(db))
    outbox.dispatch(db, redis_db)
    redis_db.flushdb()  # the job is lost with Redis' data
    assert alerts.dispatch(db, redis_db) == 0  # recently enqueued: assumed alive
    db.execute("UPDATE emails SET enqueued_at = now() - interval '2 hours'")
    assert alerts.dispatch(db, redis_db) == 1  # the webhook sweep takes e-mails too
    run_jobs(redis_db)
    assert emails(db)[0]["status"] == "sent"


def fire(db, products) -> None:
    metrics(db, products[0], DAY, floor_price=50)
    db.execute(
        "INSERT INTO alerts (user_id, product_id, kind, threshold) SELECT id, %s, 'floor_below', 100 FROM users",
        [products[0]],
    )
    alerts.evaluate_metrics(db, DAY)


def test_an_alert_firing_is_emailed_once_to_a_verified_user_who_opted_in(db, redis_db, smtp, products):
    a_user(db, verified=True, alert_emails=True)
    fire(db, products)
    alerts.evaluate_metrics(db, DAY)  # evaluated again within the cooldown: no second firing
    [row] = emails(db)
    assert row["kind"] == "alert" and row["notification_id"] is not None
    alerts.dispatch(db, redis_db)
    run_jobs(redis_db)
    [message] = smtp.messages
    assert message["Subject"].startswith("BoosterBoxPro alert: OP-01 Box: floor $50.00 is below $100.00")
    assert "op-01-box" in message.get_content()
    assert send_email(row["id"])["status"] == "skipped"  # a retried job never mails it again
    assert emails(db)[0]["status"] == "sent" and len(smtp.messages) == 1


def test_an_alert_email_is_unique_per_firing_in_the_database(db, products):
    a_user(db, verified=True, alert_emails=True)
    fire(db, products)
    [row] = emails(db)
    duplicate = "INSERT INTO emails (user_id, kind, notification_id) VALUES (%s, 'alert', %s)"
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.execute(duplicate, [row["user_id"], row["notification_id"]])


def test_no_alert_email_unverified_or_not_opted_in(db, redis_db, smtp, products):
    a_user(db, verified=False, alert_emails=True)
    fire(db, products)
    assert emails(db) == []  # unverified: the inbox only
    db.execute("UPDATE users SET email_verified_at = now(), alert_emails = false")
    db.execute("UPDATE alerts SET last_fired_at = NULL")
    alerts.evaluate_metrics(db, DAY)
    assert emails(db) == []
    assert db.execute("SELECT count(*) AS n FROM notifications").fetchone()["n"] == 2


def test_an_alert_email_is_cancelled_when_the_user_opts_out_before_it_leaves(db, redis_db, smtp, products):
    a_user(db, verified=True, alert_emails=True)
    fire(db, products)
    db.execute("UPDATE users SET alert_emails = false")
    alerts.dispatch(db, redis_db)
    run_jobs(redis_db)
    [row] = emails(db)
    assert (row["status"], row["last_error"]) == ("cancelled", "the user turned alert e-mails off")
    assert smtp.messages == []


def test_a_reset_request_for_an_unknown_address_writes_and_sends_nothing(db, redis_db, smtp):
    assert request_password_reset("nobody@example.com") == {"status": "no account"}
    a_user(db)
    assert request_password_reset("ann@example.com")["status"] == "queued"
    run_jobs(redis_db)
    [row] = emails(db)
    assert (row["kind"], row["status"]) == ("password_reset", "sent")
    assert [m["To"] for m in smtp.messages] == ["ann@example.com"]
