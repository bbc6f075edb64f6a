"""Accounts by e-mail through the API, with the e-mails sent by the real jobs to a real SMTP server on
loopback: verification, password reset without account enumeration, single-use expiring tokens, the
end of every session after a reset, alert e-mails opted into with PATCH /me."""

from __future__ import annotations

import statistics
import time
from dataclasses import replace

import pytest
import redis

from service.core import account_tokens, alerts, outbox
from tests.helpers import PASSWORD, bearer, clear_of_window_edges, link_token, new_account, register, run_jobs

NEW_PASSWORD = "purple elephant umbrella"
RESET = "/api/v1/auth/password-reset"


def signed_up(client, redis_db, smtp, email: str = "ann@example.com") -> dict[str, str]:
    """A new account's bearer header, once its verification e-mail is sent."""
    headers = bearer(new_account(client, email)["access_token"])
    run_jobs(redis_db)  # the verification e-mail
    return headers


def test_registration_emails_a_verification_link_that_works_once(client, db, redis_db, smtp):
    headers = signed_up(client, redis_db, smtp)
    me = client.get("/api/v1/me", headers=headers).get_json()
    assert me["email_verified"] is False and me["alert_emails"] is False
    message = smtp.last()
    assert (message["To"], message["Subject"]) == ("ann@example.com", "Confirm your e-mail address")
    token = link_token(message, "verify-email")

    assert client.get("/api/v1/me", headers=headers).get_json()["email_verified"] is False
    assert client.post("/api/v1/auth/verify-email", json={"token": token}).status_code == 204
    assert client.get("/api/v1/me", headers=headers).get_json()["email_verified"] is True
    again = client.post("/api/v1/auth/verify-email", json={"token": token})
    assert (again.status_code, again.get_json()["code"]) == (400, "bad_request")


@pytest.mark.parametrize("case", ["wrong", "expired", "other purpose"])
def test_a_wrong_expired_or_misused_verification_token_is_refused(client, db, redis_db, smtp, case):
    headers = signed_up(client, redis_db, smtp)
    token = link_token(smtp.last(), "verify-email")
    if case == "wrong":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    elif case == "expired":
        db.execute("UPDATE account_tokens SET expires_at = now() - interval '1 second'")
    else:
        db.execute("UPDATE account_tokens SET purpose = 'password_reset'")
    response = client.post("/api/v1/auth/verify-email", json={"token": token})
    assert (response.status_code, response.get_json()["code"]) == (400, "bad_request")
    assert client.get("/api/v1/me", headers=headers).get_json()["email_verified"] is False


def test_resending_the_verification_link(client, db, redis_db, smtp):
    headers = signed_up(client, redis_db, smtp)
    response = client.post("/api/v1/auth/verify-email/resend", headers=headers)
    assert response.status_code == 202
    run_jobs(redis_db)
    first, second = (link_token(m, "verify-email") for m in smtp.messages)
    assert first != second
    assert client.post("/api/v1/auth/verify-email", json={"token": second}).status_code == 204
    again = client.post("/api/v1/auth/verify-email/resend", headers=headers)
    assert (again.status_code, again.get_json()["code"]) == (409, "conflict")
    assert client.post("/api/v1/auth/verify-email/resend").status_code == 401


def test_a_slow_or_failing_smtp_server_never_fails_or_slows_registration(client, db, redis_db, smtp):
    smtp.replies = ["554 5.7.1 Go away"]
    smtp.stall_s, smtp.stalls = 3.0, 1
    started = time.monotonic()
    response = register(client)
    assert response.status_code == 202
    assert time.monotonic() - started < 2  # the e-mail is the job's business
    run_jobs(redis_db)
    row = db.execute("SELECT status, last_error FROM emails").fetchone()
    assert row["status"] in ("pending", "failed") and row["last_error"]  # recorded, not lost


def test_registering_a_taken_address_answers_as_for_a_new_one_and_emails_its_owner(client, db, redis_db, smtp):
    """It was a 409 ("An account with that email address exists"): registration told who has an account."""
    new = register(client, "ann@example.com")
    run_jobs(redis_db)
    account = db.execute("SELECT * FROM users").fetchone()
    taken = register(client, "Ann@example.com", NEW_PASSWORD)
    assert (taken.status_code, taken.get_data()) == (new.status_code, new.get_data())
    assert db.execute("SELECT * FROM users").fetchall() == [account]  # nothing changed, the password neither
    run_jobs(redis_db)
    message = smtp.last()
    assert (message["To"], message["Subject"]) == ("ann@example.com", "You already have a BoosterBoxPro account")
    assert "/signin" in message.get_content() and "/forgot-password" in message.get_content()
    assert db.execute("SELECT count(*) AS n FROM account_tokens").fetchone()["n"] == 1  # no token in it
    login = {"email": "ann@example.com", "password": NEW_PASSWORD}
    assert client.post("/api/v1/auth/login", json=login).status_code == 401


def test_registering_a_new_or_a_taken_address_takes_similar_time(app, client, db, redis_db, monkeypatch):
    settings = app.config["SETTINGS"]
    monkeypatch.setitem(
        app.config, "SETTINGS", replace(settings, mail=replace(settings.mail, rate_limit_password_reset="1000/hour"))
    )
    register(client)
    timings: dict[str, list[float]] = {"taken": [], "new": []}
    answers = set()
    for i in range(8):
        for kind, email in (("taken", "ann@example.com"), ("new", f"new{i}@example.com")):
            started = time.perf_counter()
            response = client.post(
                "/api/v1/auth/register",
                json={"email": email, "password": PASSWORD},
                environ_base={"REMOTE_ADDR": f"10.0.{i}.1"},
            )
            timings[kind].append(time.perf_counter() - started)
            answers.add((response.status_code, response.get_data()))
    assert len(answers) == 1 and answers.pop()[0] == 202  # one status and one body for everyone
    taken, new = statistics.median(timings["taken"]), statistics.median(timings["new"])
    assert abs(taken - new) < 0.05, (taken, new)  # the same statements either way (auth/register.sql)
    assert db.execute("SELECT count(*) AS n FROM emails").fetchone()["n"] == 1 + 8 + 8  # and every one e-mailed


def test_a_password_reset_by_email_ends_every_session(client, db, redis_db, smtp):
    tokens = new_account(client)
    run_jobs(redis_db)  # the verification e-mail
    other = client.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": PASSWORD}).get_json()
    response = client.post(RESET, json={"email": "Ann@Example.com"})
    assert response.status_code == 202
    run_jobs(redis_db)
    message = smtp.last()
    assert message["Subject"] == "Reset your password"
    token = link_token(message, "reset-password")
    stored = db.execute("SELECT token_hash FROM account_tokens WHERE purpose = 'password_reset'").fetchone()
    assert bytes(stored["token_hash"]) == account_tokens.digest(token)

    confirm = client.post(f"{RESET}/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert confirm.status_code == 204, confirm.get_json()
    for session in (tokens, other):
        assert client.get("/api/v1/me", headers=bearer(session["access_token"])).status_code == 401
        assert client.post("/api/v1/auth/refresh", headers=bearer(session["refresh_token"])).status_code == 401
    old = client.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": PASSWORD})
    assert old.status_code == 401
    new = client.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": NEW_PASSWORD})
    assert new.status_code == 200
    assert client.get("/api/v1/me", headers=bearer(new.get_json()["access_token"])).get_json()["email_verified"]
    reused = client.post(f"{RESET}/confirm", json={"token": token, "password": "another fine passphrase"})
    assert (reused.status_code, reused.get_json()["code"]) == (400, "bad_request")


def test_a_reset_token_expires_and_spends_the_others(client, db, redis_db, smtp):
    signed_up(client, redis_db, smtp)
    client.post(RESET, json={"email": "ann@example.com"})
    client.post(RESET, json={"email": "ann@example.com"})
    run_jobs(redis_db)
    first, second = (link_token(m, "reset-password") for m in smtp.messages[1:])
    db.execute(
        "UPDATE account_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = %s",
        [account_tokens.digest(first)],
    )
    expired = client.post(f"{RESET}/confirm", json={"token": first, "password": NEW_PASSWORD})
    assert expired.status_code == 400
    weak = client.post(f"{RESET}/confirm", json={"token": second, "password": "password12"})
    assert weak.status_code == 422 and "password" in weak.get_json()["details"]["json"]
    # A refused password leaves the token usable for a better one.
    assert client.post(f"{RESET}/confirm", json={"token": second, "password": NEW_PASSWORD}).status_code == 204
    left = db.execute("SELECT count(*) AS n FROM account_tokens WHERE used_at IS NULL AND purpose = 'password_reset'")
    assert left.fetchone()["n"] == 0


def test_known_and_unknown_addresses_get_the_same_answer_in_similar_time(app, client, db, redis_db, smtp, monkeypatch):
    settings = app.config["SETTINGS"]
    monkeypatch.setitem(
        app.config, "SETTINGS", replace(settings, mail=replace(settings.mail, rate_limit_password_reset="1000/hour"))
    )
    signed_up(client, redis_db, smtp)
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    answers = set()
    for i in range(16):
        for kind, email in (("known", "ann@example.com"), ("unknown", f"nobody{i}@example.com")):
            started = time.perf_counter()
            response = client.post(RESET, json={"email": email}, environ_base={"REMOTE_ADDR": f"10.0.{i}.1"})
            timings[kind].append(time.perf_counter() - started)
            answers.add((response.status_code, response.get_data()))
    assert len(answers) == 1 and answers.pop()[0] == 202  # one status and one body for everyone
    known, unknown = statistics.median(timings["known"]), statistics.median(timings["unknown"])
    assert abs(known - unknown) < 0.05, (known, unknown)  # the lookup happens in the job, not here
    run_jobs(redis_db)
    assert [m["To"] for m in smtp.messages[1:]] == ["ann@example.com"] * 16  # and only accounts get mail


def test_password_resets_are_limited_per_address_and_per_ip(client, db, redis_db, smtp):
    signed_up(client, redis_db, smtp)
    clear_of_window_edges()
    answers = [
        client.post(RESET, json={"email": "ann@example.com"}, environ_base={"REMOTE_ADDR": f"10.1.{i}.1"})
        for i in range(5)
    ]
    assert {(r.status_code, r.json["message"]) for r in answers} == {(202, answers[0].json["message"])}
    run_jobs(redis_db)
    assert len(smtp.messages) - 1 == 3  # RATE_LIMIT_PASSWORD_RESET: 3/hour, silently
    one_ip = {"REMOTE_ADDR": "10.9.9.9"}
    per_ip = [client.post(RESET, json={"email": f"x{i}@example.com"}, environ_base=one_ip) for i in range(11)]
    assert [r.status_code for r in per_ip] == [202] * 10 + [429]  # RATE_LIMIT_AUTH per client address
    assert per_ip[10].headers["Retry-After"]


def test_a_reset_that_cannot_be_queued_is_a_503_for_everyone(app, client, db, monkeypatch):
    def down(*_args, **_kwargs):
        raise redis.ConnectionError("Redis is down")

    monkeypatch.setattr(outbox.Queue, "enqueue", down)
    register(client)
    for email in ("ann@example.com", "nobody@example.com"):
        response = client.post(RESET, json={"email": email})
        assert (response.status_code, response.get_json()["code"]) == (503, "unavailable")
        assert response.headers["Retry-After"] == "60"


def test_alert_emails_are_a_preference_of_the_account(client, db):
    headers = bearer(new_account(client)["access_token"])
    response = client.patch("/api/v1/me", json={"alert_emails": True}, headers=headers)
    assert response.status_code == 200 and response.get_json()["alert_emails"] is True
    assert client.get("/api/v1/me", headers=headers).get_json()["alert_emails"] is True
    assert db.execute("SELECT alert_emails FROM users").fetchone()["alert_emails"] is True
    for body in ({}, {"alert_emails": "maybe"}, {"alert_emails": True, "role": "admin"}):
        assert client.patch("/api/v1/me", json=body, headers=headers).status_code == 422
    assert client.patch("/api/v1/me", json={"alert_emails": False}).status_code == 401


def test_with_redis_down_registration_works_and_the_sweep_sends_the_email_later(app, client, db, redis_db, smtp):
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(app.extensions, "boxpro.redis", redis.Redis(port=1, socket_connect_timeout=0.2))
        assert register(client).status_code == 202
    row = db.execute("SELECT status, enqueued_at FROM emails").fetchone()
    assert (row["status"], row["enqueued_at"]) == ("pending", None)  # kept, waiting for a job
    assert alerts.dispatch(db, redis_db) == 1  # what the webhook-sweep entry runs
    run_jobs(redis_db)
    assert smtp.last()["Subject"] == "Confirm your e-mail address"
