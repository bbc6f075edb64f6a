"""Box images: what the marketplace adapters, the admin API and the download job share.

A product's wanted image URL is an admin's override, else what a marketplace says (TCGplayer's
catalog, the tcgcsv mirror). The job `jobs.images.download_image` fetches it once, from public https
hosts only, and stores it in the database; the API serves it at /api/v1/products/{id}/image, so users'
browsers never contact the image host. Writers call `record_sources`, then `request_downloads` for the
products whose wanted URL changed; the `images` schedule entry catches whatever an enqueue missed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import psycopg
import redis
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from service.core.sql import query

log = logging.getLogger(__name__)

JOB = "jobs.images.download_image"  # by name: the core never imports jobs/
QUEUE = "default"
# Transient failures (timeouts, 5xx, 429) are tried again; the workers run --with-scheduler.
RETRY = Retry(max=3, interval=[30, 120, 600])
_STILL_TO_RUN = frozenset({JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.STARTED})


def record_sources(conn: psycopg.Connection[Any], urls: Mapping[int, str]) -> list[int]:
    """Store the image URLs marketplaces give (product id -> URL); the products whose wanted URL
    changed, which need a download."""
    if not urls:
        return []
    ids = sorted(urls)
    params = {"product_ids": ids, "urls": [urls[i] for i in ids]}
    rows = conn.cursor(row_factory=psycopg.rows.tuple_row).execute(query("images/set_sources"), params).fetchall()
    return sorted(int(product_id) for product_id, wanted_changed in rows if wanted_changed)


def job_id(product_id: int) -> str:
    return f"image-{product_id}"


def request_downloads(client: redis.Redis, product_ids: Iterable[int]) -> list[str]:
    """Queue one download job per product unless one is waiting already. Never raises: with Redis
    down, the `images` schedule entry finds the products later."""
    queued = []
    try:
        queue = Queue(QUEUE, connection=client)
        for product_id in product_ids:
            try:
                if Job.fetch(job_id(product_id), connection=client).get_status(refresh=False) in _STILL_TO_RUN:
                    continue
            except NoSuchJobError:
                pass
            queue.enqueue(
                JOB,
                product_id,
                job_id=job_id(product_id),
                job_timeout=120,
                retry=RETRY,
                result_ttl=24 * 3600,
                failure_ttl=7 * 24 * 3600,
            )
            queued.append(job_id(product_id))
    except redis.RedisError:
        log.warning("could not queue image downloads; the images schedule entry will", exc_info=True)
    return queued


# Content types are told by the bytes, never by the host's header.
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def sniff(data: bytes) -> str | None:
    """image/jpeg, image/png or image/webp by the file's magic bytes; None for anything else (SVG,
    which can carry script, HTML, GIF, ...)."""
    for signature, content_type in _SIGNATURES:
        if data.startswith(signature):
            return content_type
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
