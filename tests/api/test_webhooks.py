"""Webhooks: setting one (and refusing unsafe URLs), signed delivery by RQ jobs, retries, no duplicates."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rq import Queue, Retry, SimpleWorker

from jobs.webhooks import deliver_webhook
from service.core import alerts, webhooks
from tests.helpers import TEST_DATABASE_URL, TEST_REDIS_URL, metrics, sign_in

DAY = date(2026, 3, 1)


class Receiver(ThreadingHTTPServer):
    """A webhook receiver on loopback answering with the queued statuses (then 204)."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.received: list[tuple[dict[str, str], bytes]] = []

        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def worker_env(monkeypatch, app):
    """What a worker process reads: our test database, and permission to call loopback (the API
    too, so a receiver on 127.0.0.1 can be set)."""
    monkeypatch.setitem(app.config, "SETTINGS", replace(app.config["SETTINGS"], webhook_allow_private=True))
    monkeypatch.setenv("DATABASE_URL", TEST_DATABASE_URL)
    monkeypatch.setenv("REDIS_URL", TEST_REDIS_URL)
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE", "true")
    monkeypatch.setattr(alerts, "RETRY", Retry(max=2))  # immediate retries, so a burst worker sees them all


def fire_one(client, db, products, url: str | None) -> tuple[dict[str, str], str | None]:
    ann = sign_in(client)
    secret = None
    if url is not None:
        response = client.put("/api/v1/me/webhook", json={"url": url}, headers=ann)
        assert response.status_code == 200, response.get_json()
        secret = response.get_json()["secret"]
    metrics(db, products[0], DAY, floor_price=50)
    client.post("/api/v1/me/alerts", json={"product": "op-01-box", "kind": "floor_below", "price": 100}, headers=ann)
    assert alerts.evaluate_metrics(db, DAY).notifications == 1
    return ann, secret


def work(redis_db) -> None:
    SimpleWorker([Queue(alerts.QUEUE, connection=redis_db)], connection=redis_db).work(burst=True)


def deliveries(db) -> list[dict]:
    return db.execute("SELECT * FROM webhook_deliveries ORDER BY id").fetchall()


def test_a_firing_is_posted_signed_once(client, db, products, redis_db, receiver, worker_env):
    _, secret = fire_one(client, db, products, receiver.url)
    assert alerts.dispatch(db, redis_db) == 1
    assert alerts.dispatch(db, redis_db) == 0  # already has a live job
    work(redis_db)

    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    signed = f"{headers['X-BoxPro-Timestamp']}.".encode() + body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-BoxPro-Signature"], expected)
    payload = json.loads(body)
    assert payload["event"] == "alert.fired" and payload["notification"]["product"]["slug"] == "op-01-box"
    assert headers["X-BoxPro-Delivery"] == str(payload["delivery_id"])
    [row] = deliveries(db)
    assert (row["status"], row["attempts"], row["last_status"]) == ("delivered", 1, 204)

    # A duplicated job (a retry after a lost acknowledgement) sends nothing more.
    assert deliver_webhook(row["id"])["status"] == "skipped"
    assert len(receiver.received) == 1


def test_failures_are_retried_then_given_up(client, db, products, redis_db, receiver, worker_env):
    fire_one(client, db, products, receiver.url)
    receiver.statuses = [500, 503]  # then 204
    alerts.dispatch(db, redis_db)
    work(redis_db)
    [row] = deliveries(db)
    assert (row["status"], row["attempts"], row["last_status"]) == ("delivered", 3, 204)
    assert len({h["X-BoxPro-Delivery"] for h, _ in receiver.received}) == 1  # one delivery id throughout

    db.execute("TRUNCATE notifications CASCADE")
    db.execute("UPDATE alerts SET last_fired_at = NULL")
    assert alerts.evaluate_metrics(db, DAY).deliveries == 1
    receiver.statuses = [500, 500, 500]
    alerts.dispatch(db, redis_db)
    work(redis_db)
    [row] = deliveries(db)
    assert (row["status"], row["attempts"], row["last_error"]) == ("failed", 3, "receiver answered HTTP 500")


def test_unreachable_receiver_and_removed_webhook(client, db, products, redis_db, receiver, worker_env):
    ann, _ = fire_one(client, db, products, receiver.url)
    receiver.shutdown()
    receiver.server_close()
    alerts.dispatch(db, redis_db)
    work(redis_db)
    [row] = deliveries(db)
    assert row["status"] == "failed" and row["last_error"].startswith("ConnectionError")

    db.execute("UPDATE webhook_deliveries SET status = 'pending', enqueued_at = NULL")
    assert client.delete("/api/v1/me/webhook", headers=ann).status_code == 204
    alerts.dispatch(db, redis_db)
    work(redis_db)
    [row] = deliveries(db)
    assert (row["status"], row["last_error"]) == ("failed", "the user removed the webhook")


def test_a_delivery_job_for_no_such_delivery_does_nothing(db, worker_env, receiver):
    assert deliver_webhook(987654) == {"delivery_id": 987654, "status": "skipped"}
    assert receiver.received == [] and deliveries(db) == []


def test_no_webhook_no_delivery(client, db, products, redis_db):
    fire_one(client, db, products, None)
    assert deliveries(db) == []
    assert alerts.dispatch(db, redis_db) == 0


def test_lost_jobs_are_swept_up(db, client, products, redis_db, receiver, worker_env):
    fire_one(client, db, products, receiver.url)
    alerts.dispatch(db, redis_db)
    redis_db.flushdb()  # the job is lost with Redis' data
    assert alerts.dispatch(db, redis_db) == 0  # recently enqueued: assumed alive
    db.execute("UPDATE webhook_deliveries SET enqueued_at = now() - interval '4 hours'")
    assert alerts.dispatch(db, redis_db) == 1
    work(redis_db)
    assert deliveries(db)[0]["status"] == "delivered"


def test_setting_a_webhook(client, products, db):
    ann = sign_in(client)
    none_yet = client.get("/api/v1/me/webhook", headers=ann)  # once a 404: the normal state is no error
    assert none_yet.status_code == 200
    assert none_yet.get_json() == {"url": None, "created_at": None, "recent_deliveries": []}
    first = client.put("/api/v1/me/webhook", json={"url": "https://hooks.example.com/boxpro"}, headers=ann)
    assert first.status_code == 200
    assert first.get_json()["secret"].startswith("whsec_")
    shown = client.get("/api/v1/me/webhook", headers=ann).get_json()
    assert shown["url"] == "https://hooks.example.com/boxpro" and "secret" not in shown
    assert shown["recent_deliveries"] == []
    again = client.put("/api/v1/me/webhook", json={"url": "https://hooks.example.com/v2"}, headers=ann).get_json()
    assert again["secret"] != first.get_json()["secret"]  # re-setting rotates the secret
    assert db.execute("SELECT count(*) AS n FROM webhooks").fetchone()["n"] == 1
    bob = sign_in(client, "bob@example.com")
    assert client.get("/api/v1/me/webhook", headers=bob).get_json()["url"] is None
    assert client.delete("/api/v1/me/webhook", headers=bob).status_code == 404
    assert client.delete("/api/v1/me/webhook", headers=ann).status_code == 204
    assert client.get("/api/v1/me/webhook", headers=ann).get_json()["url"] is None


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",  # not https
        "https://127.0.0.1/x",
        "https://10.1.2.3/x",
        "https://[::1]/x",
        "https://169.254.169.254/latest/meta-data",
        "https://localhost/x",
        "https://user:pass@hooks.example.com/x",
        "ftp://hooks.example.com/x",
        "not a url",
        "https://" + "a" * 2000 + ".com/",
    ],
)
def test_unsafe_webhook_urls_are_refused(client, products, db, url):
    ann = sign_in(client)
    response = client.put("/api/v1/me/webhook", json={"url": url}, headers=ann)
    assert response.status_code == 422, (url, response.get_json())
    assert "url" in response.get_json()["details"]["json"]
    assert db.execute("SELECT count(*) AS n FROM webhooks").fetchone()["n"] == 0


def test_names_resolving_to_private_addresses_are_refused_at_send_time():
    with pytest.raises(webhooks.UnsafeUrl):
        webhooks.resolve_public("https://localhost:8443/x")


@pytest.mark.parametrize(
    "host",
    [
        "localhost.",
        "LOCALHOST",
        "0x7f000001",
        "2130706433",
        "017700000001",
        "0",
        "127.1",
        "0x7f.1",
        "rebound.example.net",
    ],
)
def test_a_webhook_the_send_time_check_would_refuse_is_refused_when_saved(client, products, db, monkeypatch, host):
    """Loopback written otherwise (a trailing dot, hex, decimal, octal, short forms) and a name that
    resolves to loopback were saved, and only refused at every delivery. Saving and sending use the one check."""
    real_getaddrinfo = socket.getaddrinfo

    def resolver(name, *args, **kwargs):  # the outside world's DNS: this one name points at loopback
        if name == "rebound.example.net":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 443))]
        return real_getaddrinfo(name, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    ann = sign_in(client)
    response = client.put("/api/v1/me/webhook", json={"url": f"https://{host}/hook"}, headers=ann)
    assert response.status_code == 422, (host, response.get_json())
    assert "url" in response.get_json()["details"]["json"]
    assert db.execute("SELECT count(*) AS n FROM webhooks").fetchone()["n"] == 0
    with pytest.raises(webhooks.UnsafeUrl):  # the check every delivery makes (jobs/webhooks.py)
        webhooks.public_address(f"https://{host}/hook", allow_private=False)
