"""Outgoing webhooks: which URLs we accept, and how a delivery is signed and sent.

A receiver checks a delivery with its secret:
    expected = "sha256=" + hex(HMAC-SHA256(secret, f"{X-BoxPro-Timestamp}." + raw body))
and compares it with `X-BoxPro-Signature` in constant time, rejecting old timestamps (replays).
`X-BoxPro-Delivery` is the same on every retry of one delivery, so receivers can drop duplicates.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import socket
import time
from urllib.parse import urlsplit

import requests

USER_AGENT = "BoosterBoxPro-Webhooks/1"


class UnsafeUrl(ValueError):
    """The URL may not receive webhooks."""


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _is_public(address: str) -> bool:
    return ipaddress.ip_address(address).is_global


def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse URLs that would let a user make our workers call internal services (SSRF): only
    https, no credentials in the URL, and no private, loopback or link-local address literals.
    `allow_private` (tests, private deployments) also permits http and private hosts."""
    parts = urlsplit(url)
    allowed_schemes = {"https", "http"} if allow_private else {"https"}
    if parts.scheme not in allowed_schemes:
        raise UnsafeUrl(f"the URL must start with {' or '.join(sorted(s + '://' for s in allowed_schemes))}")
    if not parts.hostname:
        raise UnsafeUrl("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeUrl("the URL may not carry credentials")
    try:
        port = parts.port
    except ValueError:
        raise UnsafeUrl("the URL has an invalid port") from None
    if port == 0:
        raise UnsafeUrl("the URL has an invalid port")
    if allow_private:
        return
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        if parts.hostname == "localhost" or parts.hostname.endswith((".localhost", ".local", ".internal")):
            raise UnsafeUrl("the URL's host is not public") from None
        return
    if not literal.is_global:
        raise UnsafeUrl("the URL's host is not a public address")


def resolve_public(url: str) -> None:
    """At send time: every address the host resolves to must be public (a name can point anywhere)."""
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise UnsafeUrl(f"cannot resolve {parts.hostname}: {exc}") from None
    if not infos or not all(_is_public(str(info[4][0])) for info in infos):
        raise UnsafeUrl(f"{parts.hostname} resolves to a non-public address")


def send(
    session: requests.Session, url: str, secret: str, delivery_id: int, body: bytes, *, timeout: float
) -> requests.Response:
    """POST one signed delivery. Redirects are not followed (they could lead anywhere)."""
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-BoxPro-Delivery": str(delivery_id),
        "X-BoxPro-Timestamp": str(timestamp),
        "X-BoxPro-Signature": sign(secret, timestamp, body),
    }
    return session.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
