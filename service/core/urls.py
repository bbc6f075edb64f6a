"""Calls to URLs that users or marketplaces give us (webhooks, box images): the SSRF guard.

Only https, no credentials in the URL, and only public addresses: a URL must not make our workers
call internal services. `public_address` is the one check, made when a URL is given to us (so that
its owner learns at once that it will never be called) and again when we call it: `check_url` judges
the URL as written, `resolve_public` the addresses its host resolves to; `pinned` then pins the
connection to the address checked, so a name that resolves elsewhere a moment later (DNS rebinding)
cannot lead it astray.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter


class UnsafeUrl(ValueError):
    """The URL may not be called."""


class Unresolvable(UnsafeUrl):
    """The URL's host has no address now: it cannot be called now, but may be by the time it is."""


# IPv6 forms that carry an IPv4 address inside: NAT64 (RFC 6052 and its local-use prefix), which a
# NAT64 gateway turns into a connection to that IPv4 address; IPv4-mapped, 6to4 and Teredo.
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]  # the client's address (the server's is public by construction)
    if any(address in network for network in NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: str) -> bool:
    """A globally routable address, and so is any IPv4 address it carries."""
    parsed = ipaddress.ip_address(address.split("%", 1)[0])
    if not parsed.is_global:
        return False
    inner = _embedded_ipv4(parsed) if isinstance(parsed, ipaddress.IPv6Address) else None
    return inner is None or inner.is_global


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
    host = parts.hostname.rstrip(".")  # `localhost.` is localhost: a final dot only makes a name absolute
    literal = _address_literal(host)
    if literal is None:
        if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
            raise UnsafeUrl("the URL's host is not public")
        return
    if not is_public(str(literal)):
        raise UnsafeUrl("the URL's host is not a public address")


def _address_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host written as one stands for, in every form the resolver reads as one: besides
    dotted quads, the legacy IPv4 forms of inet_aton (`2130706433`, `0x7f000001`, `017700000001`,
    `127.1`, `0`), which getaddrinfo turns into an address without asking any DNS."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def public_address(url: str, *, allow_private: bool) -> str | None:
    """The one check of a URL we are to call, when it is given to us and when we call it: `check_url`,
    then (unless `allow_private`) `resolve_public`. Returns the address to pin the connection to, None
    with `allow_private`. Raises UnsafeUrl; Unresolvable when the host has no address now, which
    only the caller knows how to take (when a URL is given: it may resolve later; when calling it: no)."""
    check_url(url, allow_private=allow_private)
    return None if allow_private else resolve_public(url)


def resolve_public(url: str) -> str:
    """At send time: every address the host resolves to must be public (a name can point anywhere).
    Returns the address to connect to; `send` pins the connection to it, so a name that resolves
    differently a moment later (DNS rebinding) cannot lead the connection elsewhere."""
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:  # UnicodeError: a label IDNA cannot encode
        raise Unresolvable(f"cannot resolve {parts.hostname}: {exc}") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses or not all(is_public(a) for a in addresses):
        raise UnsafeUrl(f"{parts.hostname} resolves to a non-public address")
    return addresses[0]


class PinnedAdapter(HTTPAdapter):
    """Connects to the URL's host by name for TLS (SNI and the certificate's name) while the socket
    goes to an address resolved and checked before: the URL it is given carries that address."""

    def __init__(self, hostname: str) -> None:
        self.hostname = hostname
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["server_hostname"] = self.hostname
        kwargs["assert_hostname"] = self.hostname
        super().init_poolmanager(*args, **kwargs)


def pinned(url: str, address: str) -> tuple[requests.Session, str, str]:
    """A session, the URL with `address` for its host, and the Host header: a request that reaches
    `address` and still names (and verifies) the URL's host."""
    parts = urlsplit(url)
    assert parts.hostname is not None
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    session = requests.Session()
    session.mount(f"{parts.scheme}://", PinnedAdapter(parts.hostname))
    return session, urlunsplit(parts._replace(netloc=netloc)), parts.netloc
