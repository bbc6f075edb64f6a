"""Webhook SSRF guards (issue 12, item 7): IPv6 forms that carry a private IPv4 address are refused when
the URL is set and when it is resolved at send time, and the connection goes to the address that was
checked, never to what the name resolves to a moment later."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import requests

from service.core import webhooks

LOOPBACK_IN_DISGUISE = [
    "64:ff9b::7f00:1",  # NAT64 (RFC 6052) of 127.0.0.1
    "64:ff9b::a01:203",  # NAT64 of 10.1.2.3
    "64:ff9b:1::a9fe:a9fe",  # NAT64 local-use prefix, 169.254.169.254
    "::ffff:127.0.0.1",  # IPv4-mapped
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo; the client is 127.0.0.1 (bits inverted)
]


@pytest.mark.parametrize("address", LOOPBACK_IN_DISGUISE)
def test_ipv6_forms_of_private_addresses_are_not_public(address):
    assert not webhooks.is_public(address)
    with pytest.raises(webhooks.UnsafeUrl, match="not a public address"):
        webhooks.check_url(f"https://[{address}]/hook", allow_private=False)


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808", "2002:808:808::1"])
def test_public_addresses_and_their_ipv6_forms_stay_allowed(address):
    assert webhooks.is_public(address)


def test_a_name_resolving_to_a_disguised_private_address_is_refused_at_send_time(monkeypatch):
    # The resolver is the outside world here: a hostile name server.
    answers = [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("64:ff9b::7f00:1", 443, 0, 0))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: answers)
    with pytest.raises(webhooks.UnsafeUrl, match="non-public address"):
        webhooks.resolve_public("https://rebind.example.com/hook")


class Receiver(BaseHTTPRequestHandler):
    hosts: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        Receiver.hosts.append(self.headers["Host"])
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.hosts = []
    yield server.server_address[1]
    server.shutdown()


def test_the_connection_is_pinned_to_the_checked_address(receiver, monkeypatch):
    """Whatever the name resolves to when the request is made (it does not resolve at all here), the
    delivery reaches the address given, and names the host it was addressed to."""

    real_getaddrinfo = socket.getaddrinfo

    def numeric_only(host: str, *args: object, **kwargs: object) -> object:
        if host == "hooks.example.invalid":
            raise AssertionError("the name was resolved again after the check")
        return real_getaddrinfo(host, *args, **kwargs)  # the pinned literal: no lookup at all

    url = f"http://hooks.example.invalid:{receiver}/boxpro"
    monkeypatch.setattr(socket, "getaddrinfo", numeric_only)
    response = webhooks.send(requests.Session(), url, "s3cret", 7, b"{}", timeout=5, address="127.0.0.1")
    assert response.status_code == 204
    assert Receiver.hosts == [f"hooks.example.invalid:{receiver}"]
