"""Sending one e-mail (service/core/mail.py) to a real SMTP server on loopback, and how each failure
is classed: temporary (retry later) or permanent (give up)."""

from __future__ import annotations

import logging
import time

import pytest

from service.core import mail
from service.core.settings import Env, MailSettings, SettingsError
from tests.fakes.smtp import refused_port, self_signed, smtp_env, smtp_server


def settings_for(port: int, **extra: str) -> MailSettings:
    return MailSettings.read(Env(smtp_env(port, **extra)))


def a_message(settings: MailSettings):
    return mail.message(settings, "ann@example.com", "Hello", "Body text\n", message_key="boxpro-email-7")


def test_a_message_reaches_the_smtp_server_with_its_headers():
    with smtp_server() as (port, box):
        settings = settings_for(port)
        mail.send(settings, a_message(settings))
    received = box.last()
    assert received["To"] == "ann@example.com"
    assert received["From"] == "BoosterBoxPro <alerts@boxpro.example>"
    assert received["Subject"] == "Hello"
    assert received["Message-ID"] == "<boxpro-email-7@boxpro.example>"  # stable across retries
    assert received["Auto-Submitted"] == "auto-generated"
    assert received.get_content().splitlines() == ["Body text"]
    assert box.envelopes == [("alerts@boxpro.example", ["ann@example.com"])]


@pytest.mark.parametrize(
    ("reply", "failure"),
    [
        ("451 4.3.0 Temporary local problem", mail.TemporaryFailure),
        ("452 4.2.2 Mailbox full", mail.TemporaryFailure),
        ("550 5.1.1 No such user", mail.PermanentFailure),
        ("554 5.7.1 Rejected", mail.PermanentFailure),
    ],
)
def test_smtp_replies_are_temporary_or_permanent_failures(reply, failure):
    with smtp_server() as (port, box):
        box.replies.append(reply)
        settings = settings_for(port)
        with pytest.raises(failure) as raised:
            mail.send(settings, a_message(settings))
    assert reply.split()[0] in str(raised.value)
    assert box.messages == []


def test_a_refused_connection_is_a_temporary_failure():
    settings = settings_for(refused_port())
    with pytest.raises(mail.TemporaryFailure, match="ConnectionRefused"):
        mail.send(settings, a_message(settings))


def test_a_silent_server_times_out_as_a_temporary_failure():
    with smtp_server() as (port, box):
        box.stall_s, box.stalls = 5.0, 1
        settings = settings_for(port, SMTP_TIMEOUT_S="0.5")
        started = time.monotonic()
        with pytest.raises(mail.TemporaryFailure, match="timed out"):
            mail.send(settings, a_message(settings))
        assert time.monotonic() - started < 3  # the timeout setting, not the server, decides the wait


def test_starttls_against_a_server_without_it_fails_instead_of_sending_in_clear():
    with smtp_server() as (port, box):
        settings = settings_for(port, SMTP_SECURITY="starttls")
        with pytest.raises(mail.TemporaryFailure, match="STARTTLS"):
            mail.send(settings, a_message(settings))
    assert box.messages == []


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return self_signed(tmp_path_factory.mktemp("smtp-tls"))


# The fake's implicit-TLS server requires AUTH without knowing it runs under TLS (see tests/fakes/smtp.py).
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_tls_with_a_login_and_the_certificate_verified(certificate, monkeypatch, security):
    users = {"boxpro": "s3cret pass"}
    with smtp_server(tls=security, cert=certificate, users=users) as (port, box):
        settings = settings_for(port, SMTP_SECURITY=security, SMTP_USER="boxpro", SMTP_PASSWORD="s3cret pass")
        # A certificate nobody vouches for is refused: nothing is sent, the password never leaves.
        with pytest.raises(mail.TemporaryFailure, match="CERTIFICATE_VERIFY_FAILED"):
            mail.send(settings, a_message(settings))
        assert box.logins == [] and box.messages == []

        monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # now our CA list trusts it
        mail.send(settings, a_message(settings))
        assert box.logins == ["boxpro"] and box.last()["Subject"] == "Hello"

        wrong = settings_for(port, SMTP_SECURITY=security, SMTP_USER="boxpro", SMTP_PASSWORD="guess")
        with pytest.raises(mail.PermanentFailure, match="535"):
            mail.send(wrong, a_message(wrong))


def test_the_console_backend_logs_and_sends_nothing(caplog):
    settings = MailSettings.read(Env({"MAIL_BACKEND": "console"}))
    with caplog.at_level(logging.INFO, logger="service.core.mail"):
        mail.send(settings, a_message(settings))
    (record,) = [r for r in caplog.records if r.name == "service.core.mail"]
    assert record.to == "ann@example.com" and record.subject == "Hello" and "Body text" in record.body


def test_in_production_the_console_backend_keeps_bodies_and_their_tokens_out_of_the_logs(caplog):
    settings = MailSettings.read(Env({}), production=True)
    with caplog.at_level(logging.INFO, logger="service.core.mail"):
        mail.send(settings, a_message(settings))
    (record,) = [r for r in caplog.records if r.name == "service.core.mail"]
    assert record.levelno == logging.WARNING and "NOT sent" in record.msg
    assert not hasattr(record, "body") and "Body text" not in str(vars(record))


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"MAIL_BACKEND": "sendmail"}, "MAIL_BACKEND"),
        ({"SMTP_SECURITY": "ssl"}, "SMTP_SECURITY"),
        ({"SMTP_PORT": "0"}, "SMTP_PORT"),
        ({"MAIL_FROM": "nobody"}, "MAIL_FROM"),
        ({"PUBLIC_BASE_URL": "boxpro.example"}, "PUBLIC_BASE_URL"),
        ({"SMTP_USER": "u", "SMTP_PASSWORD": "p"}, "SMTP_USER"),  # never a password in clear
        ({"SMTP_PASSWORD": "p"}, "SMTP_PASSWORD"),
        ({"PASSWORD_RESET_TTL_MINUTES": "0"}, "PASSWORD_RESET_TTL_MINUTES"),
    ],
)
def test_bad_mail_settings_stop_the_process_with_the_variable_named(env, named):
    with pytest.raises(SettingsError, match=named):
        MailSettings.read(Env(env))
