"""Box images, as RQ jobs: download a product's image once and store it (service/core/images.py).

The service, not the user's browser, contacts the image host: only over https, only to public
addresses (the SSRF guard of service/core/urls.py, checked again at every redirect and pinned to the
address it checked), at most IMAGE_MAX_BYTES within IMAGE_TIMEOUT_S, and only JPEG, PNG or WebP as
told by the bytes. A refusal (404, too large, not an image, an unsafe URL) is recorded and tried
again a day later; a transient failure (timeout, 5xx, 429) is retried by RQ with growing delays.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import psycopg
import requests
from rq import get_current_job

from service.core import images, urls
from service.core.cache import bump_data_version, connect_redis
from service.core.settings import Settings
from service.core.sql import query

log = logging.getLogger(__name__)

USER_AGENT = "BoosterBoxPro-Images/1"
MAX_REDIRECTS = 3
RETRY_REFUSED_AFTER = "1 day"
SWEEP_LIMIT = 1000


class ImageRefused(Exception):
    """This URL does not give an acceptable image; asking again soon would not help."""


class ImageUnavailable(Exception):
    """The host did not answer well this time; worth retrying."""


@dataclass(frozen=True)
class Image:
    data: bytes
    content_type: str
    sha256: str


def fetch(url: str, settings: Settings) -> Image:
    """GET one image, following at most MAX_REDIRECTS redirects, each checked like the first URL."""
    deadline = time.monotonic() + settings.image_timeout_s
    for _ in range(MAX_REDIRECTS + 1):
        session, response = _get(url, settings)
        with session, response:
            if response.is_redirect:
                url = urljoin(url, response.headers["Location"])
                continue
            return _read(response, settings, deadline)
    raise ImageRefused(f"more than {MAX_REDIRECTS} redirects")


def _get(url: str, settings: Settings) -> tuple[requests.Session, requests.Response]:
    """The response, unread, and the session it holds a connection of (a session per download:
    pinned to the one address checked)."""
    try:
        address = urls.public_address(url, allow_private=settings.image_allow_private)
    except urls.UnsafeUrl as exc:
        raise ImageRefused(str(exc)) from None
    headers = {"User-Agent": USER_AGENT, "Accept": "image/webp,image/png,image/jpeg"}
    if address is None:
        session, target = requests.Session(), url
    else:
        session, target, headers["Host"] = urls.pinned(url, address)
    try:
        response = session.get(
            target,
            headers=headers,
            stream=True,
            allow_redirects=False,
            timeout=(settings.image_timeout_s, settings.image_timeout_s),
        )
    except requests.RequestException as exc:
        session.close()
        raise ImageUnavailable(f"{type(exc).__name__}: {exc}"[:300]) from None
    return session, response


def _read(response: requests.Response, settings: Settings, deadline: float) -> Image:
    status = response.status_code
    if status in (408, 429) or status >= 500:
        raise ImageUnavailable(f"the image host answered HTTP {status}")
    if status != 200:
        raise ImageRefused(f"the image host answered HTTP {status}")
    limit = settings.image_max_bytes
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ImageRefused(f"the image is larger than {limit} bytes ({declared})")
    body = bytearray()
    try:
        for chunk in response.iter_content(64 * 1024):
            body += chunk
            if len(body) > limit:  # a host may send more than it declared, or declare nothing
                raise ImageRefused(f"the image is larger than {limit} bytes")
            if time.monotonic() > deadline:  # a host trickling bytes never trips the read timeout
                raise ImageUnavailable(f"the download took longer than {settings.image_timeout_s} s")
    except requests.RequestException as exc:
        raise ImageUnavailable(f"{type(exc).__name__}: {exc}"[:300]) from None
    data = bytes(body)
    content_type = images.sniff(data)
    if content_type is None:
        raise ImageRefused("the body is not a JPEG, PNG or WebP image")
    return Image(data, content_type, images.digest(data))


class WantedUrlMoved(Exception):
    """The product's wanted URL changed while its image was being downloaded."""


MAX_MOVES = 3  # follow a URL that keeps changing under the download this often; then the sweep does


def download_image(product_id: int) -> dict[str, Any]:
    """RQ job: store the product's wanted image unless it is stored already (idempotent: a retry or a
    duplicate job finds the work done). Raises ImageUnavailable while RQ has retries left. An admin
    who changes the URL during the download gets the new one: the job starts over."""
    settings = Settings.from_env()
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        for _ in range(MAX_MOVES):
            try:
                return _download(conn, settings, product_id)
            except WantedUrlMoved:
                log.info("box image URL changed during its download; starting over", extra={"product_id": product_id})
    return {"product_id": product_id, "status": "moved"}


def _download(conn: psycopg.Connection[Any], settings: Settings, product_id: int) -> dict[str, Any]:
    wanted = conn.execute(query("images/wanted"), {"product_id": product_id}).fetchone()
    if wanted is None:
        return {"product_id": product_id, "status": "no such product"}
    _, url, held, downloaded_url, error = wanted
    if url is None:
        changed = _attach(conn, product_id, None, None) if held else False
        return _done(settings, product_id, "no image URL", changed=changed)
    if held and downloaded_url == url and error is None:
        return {"product_id": product_id, "status": "stored already"}
    try:
        image = fetch(url, settings)
    except ImageRefused as exc:
        return _failed(conn, product_id, url, f"refused: {exc}")
    except ImageUnavailable as exc:
        result = _failed(conn, product_id, url, f"unavailable: {exc}")
        if not _last_attempt():
            raise
        return result
    with conn.transaction():
        conn.execute(
            query("images/insert"), {"sha256": image.sha256, "content_type": image.content_type, "data": image.data}
        )
        changed = _attach(conn, product_id, url, image.sha256)
        conn.execute(query("images/record_download"), {"product_id": product_id, "url": url, "error": None})
    log.info("box image stored", extra={"product_id": product_id, "sha256": image.sha256, "bytes": len(image.data)})
    return _done(settings, product_id, "stored", changed=changed, sha256=image.sha256, bytes=len(image.data))


def _attach(conn: psycopg.Connection[Any], product_id: int, url: str | None, sha256: str | None) -> bool:
    """Point the product at the image (None: at none), unless its wanted URL is no longer `url`
    (WantedUrlMoved, which rolls the transaction back); False when it showed this image already. An
    image no product shows any more is deleted."""
    row = conn.execute(query("images/attach"), {"product_id": product_id, "url": url, "sha256": sha256}).fetchone()
    if row is None:
        raise WantedUrlMoved(product_id)
    if row[0] == sha256:
        return False
    if row[0] is not None:
        conn.execute(query("images/drop_unused"), {"sha256": row[0]})
    return True


def _done(settings: Settings, product_id: int, status: str, *, changed: bool, **extra: Any) -> dict[str, Any]:
    if changed:  # cached answers embed image_url
        with connect_redis(settings.redis_url, timeout_s=5.0) as client:
            bump_data_version(client)
    return {"product_id": product_id, "status": status, **extra}


def _failed(conn: psycopg.Connection[Any], product_id: int, url: str, error: str) -> dict[str, Any]:
    conn.execute(query("images/record_download"), {"product_id": product_id, "url": url, "error": error[:500]})
    log.warning("box image not stored", extra={"product_id": product_id, "url": url, "error": error})
    return {"product_id": product_id, "status": "failed", "error": error}


def _last_attempt() -> bool:
    job = get_current_job()
    return job is None or not job.retries_left


def sync_images() -> dict[str, Any]:
    """The `images` schedule entry: queue downloads for the products whose image is missing or out of
    date (an enqueue lost to a Redis outage, an admin's override, a refusal a day old)."""
    settings = Settings.from_env()
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute(
            query("images/pending"), {"retry_after": RETRY_REFUSED_AFTER, "limit": SWEEP_LIMIT}
        ).fetchall()
    with connect_redis(settings.redis_url, timeout_s=5.0) as client:
        queued = images.request_downloads(client, [row[0] for row in rows])
    return {"pending": len(rows), "queued": len(queued)}
