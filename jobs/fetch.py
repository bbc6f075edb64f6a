"""Fetch jobs: one marketplace and one batch of products per job, one ingest run per job.

Safe to retry and idempotent. A job pins the instant it observes the market at in its RQ job meta,
so a retry (after an error, or after its worker was killed) stamps the same snapshots and price
points, finds what the earlier attempt already committed, and fetches only the rest. Each product's
snapshot is written in its own transaction, whole or not at all. A product that could not be fetched
fails the run (recorded with the reason) and the job raises, so RQ's Retry tries it again; a spent
quota ends the run as `deferred` and schedules the remaining products for after the reset.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import redis
from rq import Queue, Retry, get_current_job
from rq.job import Job, JobStatus

from jobs.marketplaces import ebay, tcgplayer
from jobs.marketplaces.config import MarketplaceConfig
from jobs.marketplaces.http import CallRecorder, MarketplaceError, QuotaExhausted
from jobs.marketplaces.sources import ProductSource, load_sources, with_reference_bands
from service.core.cache import connect_redis
from service.core.circuits import QuotaCircuit
from service.core.ingest import writer
from service.core.ingest.after import after_listings
from service.core.ingest.records import ListingBatch, Snapshot
from service.core.settings import Settings
from service.core.sql import query

log = logging.getLogger(__name__)

# A retry within this long of the first attempt observes "the same instant"; later, a new one.
PIN_MAX_AGE = timedelta(minutes=30)
DEFAULT_QUEUE = "default"
DEFER_MARGIN = timedelta(minutes=5)  # after a quota reset, before calling again
LAST_UPDATED_KEY = "boxpro:marketplace:tcgcsv:last_updated"
SALES_LOOKBACK = timedelta(days=90)  # Marketplace Insights serves the last 90 days


class FetchFailed(RuntimeError):
    """Some products could not be fetched. The run records which and why; RQ's Retry tries again."""


@dataclass
class Run:
    conn: psycopg.Connection[Any]
    redis: redis.Redis
    run_id: int
    recorder: CallRecorder
    observed_at: datetime
    result: writer.WriteResult = field(default_factory=writer.WriteResult)
    failures: list[str] = field(default_factory=list)
    deferred_until: datetime | None = None
    inferred_sales: int = 0
    note: str | None = None

    def fail(self, message: str) -> None:
        log.warning("fetch failure", extra={"run_id": self.run_id, "failure": message})
        self.failures.append(message)

    def infer(self, marketplace: str, product_ids: Sequence[int]) -> None:
        """Listing-change inference over the snapshots just written, as the simulated driver does,
        then the ingest-time alerts on new listings (their webhooks go out with the next dispatch)."""
        self.inferred_sales += after_listings(self.conn, marketplace, product_ids, since=self.observed_at)

    def summary(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "written": dict(self.result.written),
            "skipped": dict(self.result.skipped),
            "rejected": dict(self.result.rejected),
            "http_calls": self.recorder.calls,
            "http_errors": self.recorder.errors,
            "failures": self.failures,
            "deferred_until": self.deferred_until.isoformat() if self.deferred_until else None,
            "inferred_sales": self.inferred_sales,
            "note": self.note,
        }

    @property
    def status(self) -> str:
        return "deferred" if self.deferred_until else "failed" if self.failures else "succeeded"


def _pinned_instant(now: datetime) -> datetime:
    now = now.replace(microsecond=0)
    job = get_current_job()
    if job is None:
        return now
    raw = job.meta.get("observed_at")
    if raw:
        pinned = datetime.fromisoformat(raw)
        if timedelta(0) <= now - pinned <= PIN_MAX_AGE:
            return pinned
    job.meta["observed_at"] = now.isoformat()
    job.save_meta()
    return now


def _last_attempt() -> bool:
    """No retry will follow this attempt (a direct call, or an RQ job without retries left)."""
    job = get_current_job()
    return job is None or not job.retries_left


def _error_text(run: Run) -> str | None:
    lines = list(run.failures)
    if run.deferred_until:
        lines.insert(0, f"deferred until {run.deferred_until.isoformat()}: quota spent")
    if not lines:
        return None
    text = "\n".join(lines)
    return text if len(text) <= 4000 else text[:3990] + "\n..."


@contextmanager
def _run(kind: str, marketplace: str, product_ids: Sequence[int] | None) -> Iterator[Run]:
    settings = Settings.from_env()
    job = get_current_job()
    with (
        connect_redis(settings.redis_url, timeout_s=5.0) as client,
        psycopg.connect(settings.database_url, autocommit=True) as conn,
    ):
        if job is not None:
            conn.execute(query("marketplaces/abandon_runs"), {"job_id": job.id})
        run_id = writer.start_run(
            conn, kind, marketplace=marketplace, product_ids=product_ids, job_id=job.id if job else None
        )
        run = Run(conn, client, run_id, CallRecorder(conn, run_id, marketplace), _pinned_instant(datetime.now(UTC)))
        try:
            yield run
        except Exception as exc:
            run.fail(f"{type(exc).__name__}: {exc}")
            _finish(run, "failed")
            raise
        _finish(run, run.status)
    log.info("fetch run finished", extra={"kind": kind, **run.summary()})


def _finish(run: Run, status: str) -> None:
    writer.finish_run(
        run.conn, run.run_id, run.result, status=status, http_calls=run.recorder.calls, error=_error_text(run)
    )
    run.conn.execute(
        query("marketplaces/finish_run_http"),
        {"run_id": run.run_id, "http_errors": run.recorder.errors, "replay_of": None},
    )


def _skipped(marketplace: str, missing: Sequence[str]) -> dict[str, Any]:
    log.info(
        "marketplace adapter skipped: no credentials",
        extra={"marketplace": marketplace, "missing_settings": list(missing)},
    )
    return {"skipped": "not configured", "marketplace": marketplace, "missing_settings": list(missing)}


def _defer(run: Run, func: str, kwargs: dict[str, Any], until: datetime) -> None:
    """Schedule the work for after the quota resets (RQ's scheduler: workers run --with-scheduler).
    One deferred job per function and arguments, so repeated refusals do not pile up copies."""
    run.deferred_until = until
    job = get_current_job()
    key = hashlib.sha256(json.dumps([func, kwargs], sort_keys=True, default=str).encode()).hexdigest()[:16]
    job_id = f"deferred-{func.rsplit('.', 1)[-1]}-{key}"
    connection = job.connection if job is not None else run.redis
    try:
        existing: Job | None = Job.fetch(job_id, connection=connection)
    except Exception:  # noqa: BLE001 (NoSuchJobError or an unreadable leftover: schedule afresh)
        existing = None
    if existing is not None and existing.get_status(refresh=True) in {JobStatus.SCHEDULED, JobStatus.QUEUED}:
        return
    queue = Queue(job.origin if job is not None else DEFAULT_QUEUE, connection=connection)
    queue.enqueue_at(
        until + DEFER_MARGIN,
        func,
        kwargs=kwargs,
        job_id=job_id,
        job_timeout=job.timeout if job is not None and job.timeout else 900,
        retry=Retry(max=3, interval=[60, 300, 900]),
    )
    log.info("fetch deferred until the quota resets", extra={"job_id": job_id, "until": until.isoformat()})


def _circuit_open(run: Run, name: str, func: str, kwargs: dict[str, Any]) -> bool:
    state = QuotaCircuit(run.redis, name).state()
    if state is None:
        return False
    _defer(run, func, kwargs, state.until)
    return True


# --- eBay -------------------------------------------------------------------------------------------


def fetch_ebay_listings(product_ids: list[int] | None = None) -> dict[str, Any]:
    """Active eBay listings of each product (Browse search, every page) -> one listing snapshot each."""
    config = MarketplaceConfig.from_env()
    if not config.ebay.configured:
        return _skipped(ebay.MARKETPLACE, ["EBAY_CLIENT_ID", "EBAY_CLIENT_SECRET"])
    with _run("fetch-ebay-listings", ebay.MARKETPLACE, product_ids) as run:
        sources = _ebay_sources(run.conn, config, product_ids)
        if not _circuit_open(run, ebay.BROWSE_CIRCUIT, "jobs.fetch.fetch_ebay_listings", {"product_ids": product_ids}):
            api = ebay.EbayApi(config.ebay, run.redis, run.recorder, config.user_agent)
            _fetch_snapshots(run, api, sources)
        run.infer(ebay.MARKETPLACE, [s.product_id for s in sources])
    if run.failures:
        raise FetchFailed(f"run {run.run_id}: " + "; ".join(run.failures))
    return run.summary()


def _ebay_sources(
    conn: psycopg.Connection[Any], config: MarketplaceConfig, product_ids: Sequence[int] | None
) -> list[ProductSource]:
    sources = [s for s in load_sources(conn, ebay.MARKETPLACE, product_ids) if s.search_query]
    return with_reference_bands(conn, sources, config.ebay.auto_band)


def _already_observed(run: Run, marketplace: str, sources: Sequence[ProductSource]) -> set[int]:
    rows = run.conn.execute(
        query("marketplaces/snapshots_at"),
        {"marketplace": marketplace, "observed_at": run.observed_at, "product_ids": [s.product_id for s in sources]},
    ).fetchall()
    return {int(r[0]) for r in rows}


def _fetch_snapshots(run: Run, api: ebay.EbayApi, sources: Sequence[ProductSource]) -> None:
    done = _already_observed(run, ebay.MARKETPLACE, sources)
    run.result.skipped["snapshots"] += len(done)
    pending = [s for s in sources if s.product_id not in done]
    for index, source in enumerate(pending):
        try:
            pages = api.fetch_listing_pages(source, run.observed_at)
            listings, rejected = ebay.listings_from_pages(pages, source)
        except QuotaExhausted as exc:
            rest = [s.product_id for s in pending[index:]]
            _defer(run, "jobs.fetch.fetch_ebay_listings", {"product_ids": rest}, exc.until)
            return
        except MarketplaceError as exc:
            # One bad page fails the whole snapshot: none of its rows are written. On the last attempt
            # the registry records it as incomplete (so it is seen, and never used); before that the
            # instant stays free for the retry.
            run.result.rejected["incomplete_snapshot"] += 1
            run.fail(f"product {source.product_id}: snapshot not taken: {exc}")
            if _last_attempt():
                failed = Snapshot(source.product_id, run.observed_at, [], complete=False)
                run.result.add(
                    writer.write_listing_batch(
                        run.conn, ListingBatch.from_snapshots(ebay.MARKETPLACE, [failed]), run_id=run.run_id
                    )
                )
            continue
        run.result.rejected.update(rejected)
        batch = ListingBatch.from_snapshots(ebay.MARKETPLACE, [Snapshot(source.product_id, run.observed_at, listings)])
        run.result.add(writer.write_listing_batch(run.conn, batch, run_id=run.run_id))


def fetch_ebay_sales(product_ids: list[int] | None = None) -> dict[str, Any]:
    """Sold eBay items of each product (Marketplace Insights) -> reported sales."""
    config = MarketplaceConfig.from_env()
    if not config.ebay.configured:
        return _skipped(ebay.MARKETPLACE, ["EBAY_CLIENT_ID", "EBAY_CLIENT_SECRET"])
    if not config.ebay.insights_enabled:
        return _skipped(ebay.MARKETPLACE, ["EBAY_INSIGHTS_ENABLED"])
    with _run("fetch-ebay-sales", ebay.MARKETPLACE, product_ids) as run:
        sources = _ebay_sources(run.conn, config, product_ids)
        if not _circuit_open(run, ebay.INSIGHTS_CIRCUIT, "jobs.fetch.fetch_ebay_sales", {"product_ids": product_ids}):
            api = ebay.EbayApi(config.ebay, run.redis, run.recorder, config.user_agent)
            for index, source in enumerate(sources):
                try:
                    last = run.conn.execute(
                        query("marketplaces/last_sale"),
                        {"marketplace": ebay.MARKETPLACE, "product_id": source.product_id},
                    ).fetchone()
                    since = last[0] - timedelta(days=1) if last and last[0] else run.observed_at - SALES_LOOKBACK
                    pages = api.fetch_sale_pages(source, since)
                except QuotaExhausted as exc:
                    rest = [s.product_id for s in sources[index:]]
                    _defer(run, "jobs.fetch.fetch_ebay_sales", {"product_ids": rest}, exc.until)
                    break
                except MarketplaceError as exc:
                    run.fail(f"product {source.product_id}: sales not fetched: {exc}")
                    continue
                write_sales_pages(run.conn, run.result, source, pages, run.run_id)
    if run.failures:
        raise FetchFailed(f"run {run.run_id}: " + "; ".join(run.failures))
    return run.summary()


def write_sales_pages(
    conn: psycopg.Connection[Any],
    result: writer.WriteResult,
    source: ProductSource,
    pages: Sequence[Any],
    run_id: int,
) -> None:
    ids = sorted({str(i.get("legacyItemId") or i.get("itemId")) for p in pages for i in ebay.parse_sales_page(p).items})
    recorded = {
        row[0]: int(row[1])
        for row in conn.execute(
            query("marketplaces/sold_units"),
            {"marketplace": ebay.MARKETPLACE, "product_id": source.product_id, "listing_ids": ids},
        )
    }
    sales, rejected = ebay.sales_from_pages(pages, source, recorded)
    result.rejected.update(rejected)
    result.add(writer.write_sales(conn, ebay.MARKETPLACE, sales, run_id=run_id))


# --- TCGplayer --------------------------------------------------------------------------------------


def fetch_tcgplayer_prices(product_ids: list[int] | None = None) -> dict[str, Any]:
    """TCGplayer market/low/mid/high/direct-low prices of each product, 250 product ids a call."""
    config = MarketplaceConfig.from_env()
    if not config.tcgplayer.configured:
        return _skipped(tcgplayer.MARKETPLACE, ["TCGPLAYER_PUBLIC_KEY", "TCGPLAYER_PRIVATE_KEY"])
    with _run("fetch-tcgplayer-prices", tcgplayer.MARKETPLACE, product_ids) as run:
        sources = [s for s in load_sources(run.conn, tcgplayer.MARKETPLACE, product_ids) if s.external_id]
        product_map = {str(s.external_id): s.product_id for s in sources}
        api = tcgplayer.TcgplayerApi(config.tcgplayer, run.redis, run.recorder, config.user_agent)
        for ids in tcgplayer.batches(sorted(product_map)):
            batch_map = {i: product_map[i] for i in ids}
            context = {"kind": "tcgplayer.pricing", "observed_at": run.observed_at.isoformat(), "products": batch_map}
            try:
                rows = api.pricing(ids, context)
            except MarketplaceError as exc:
                run.fail(f"products {ids[0]}..{ids[-1]} ({len(ids)}): prices not fetched: {exc}")
                continue
            points, rejected = tcgplayer.price_points(rows, batch_map, run.observed_at)
            run.result.rejected.update(rejected)
            run.result.add(writer.write_price_points(run.conn, tcgplayer.MARKETPLACE, points, run_id=run.run_id))
    if run.failures:
        raise FetchFailed(f"run {run.run_id}: " + "; ".join(run.failures))
    return run.summary()


def fetch_tcgcsv_prices(force: bool = False) -> dict[str, Any]:
    """The daily TCGplayer price mirror: every group of the configured categories, our products only.
    Skipped while the mirror's last-updated stamp has not moved (their etiquette: one sync a day)."""
    config = MarketplaceConfig.from_env()
    if not config.tcgcsv.configured:
        return _skipped(tcgplayer.MIRROR, ["TCGCSV_USER_AGENT"])
    with _run("fetch-tcgcsv-prices", tcgplayer.MARKETPLACE, None) as run:
        sources = [s for s in load_sources(run.conn, tcgplayer.MARKETPLACE) if s.external_id]
        product_map = {str(s.external_id): s.product_id for s in sources}
        api = tcgplayer.TcgcsvApi(config.tcgcsv, run.redis, run.recorder)
        updated = api.last_updated()
        seen = run.redis.get(LAST_UPDATED_KEY)
        if not force and isinstance(seen, bytes) and seen.decode() == updated.isoformat():
            run.note = f"mirror unchanged since {updated.isoformat()}"
        elif product_map:
            available = set(api.categories())
            for category in [c for c in config.tcgcsv.category_ids if c in available]:
                for group in api.groups(category):
                    context = {"kind": "tcgcsv.prices", "observed_at": updated.isoformat(), "products": product_map}
                    try:
                        rows = api.prices(category, group, context)
                    except MarketplaceError as exc:
                        run.fail(f"category {category} group {group}: prices not fetched: {exc}")
                        continue
                    points, rejected = tcgplayer.price_points(rows, product_map, updated)
                    run.result.rejected.update(rejected)
                    run.result.add(
                        writer.write_price_points(run.conn, tcgplayer.MARKETPLACE, points, run_id=run.run_id)
                    )
            if not run.failures:
                run.redis.set(LAST_UPDATED_KEY, updated.isoformat())
    if run.failures:
        raise FetchFailed(f"run {run.run_id}: " + "; ".join(run.failures))
    return run.summary()


# --- fan-out ----------------------------------------------------------------------------------------

# kind -> (job function, marketplace of its sources, default batch size, what a usable source needs)
FETCHES: dict[str, tuple[str, str, int, str]] = {
    "ebay-listings": ("jobs.fetch.fetch_ebay_listings", ebay.MARKETPLACE, 25, "search_query"),
    "ebay-sales": ("jobs.fetch.fetch_ebay_sales", ebay.MARKETPLACE, 25, "search_query"),
    "tcgplayer-prices": (
        "jobs.fetch.fetch_tcgplayer_prices",
        tcgplayer.MARKETPLACE,
        tcgplayer.MAX_IDS_PER_CALL,
        "external_id",
    ),
}
RETRY = Retry(max=3, interval=[30, 120, 600])  # workers run --with-scheduler, which Retry intervals need


def enqueue_fetches(kind: str, batch_size: int | None = None, slot_minutes: int = 60) -> dict[str, Any]:
    """Split the active sources of one fetch kind into batches and enqueue one fetch job per batch.

    Job ids are stable per kind, time slot and batch, so a double trigger or a scheduler restart in the
    same slot never queues a batch twice. What the schedule runs for eBay and TCGplayer pricing.
    """
    func, marketplace, default_size, needs = FETCHES[kind]
    size = max(1, batch_size or default_size)
    settings = Settings.from_env()
    with psycopg.connect(settings.database_url) as conn:
        ids = [s.product_id for s in load_sources(conn, marketplace) if getattr(s, needs)]
    job = get_current_job()
    connection = job.connection if job is not None else connect_redis(settings.redis_url, timeout_s=5.0)
    queue = Queue(job.origin if job is not None else DEFAULT_QUEUE, connection=connection)
    now = datetime.now(UTC)
    slot = now.replace(minute=now.minute - now.minute % max(1, min(60, slot_minutes)), second=0, microsecond=0)
    enqueued, existing = [], []
    for index, start in enumerate(range(0, len(ids), size)):
        job_id = f"fetch-{kind}-{slot:%Y%m%dT%H%M}-{index}"
        if Job.exists(job_id, connection=connection):
            existing.append(job_id)
            continue
        queue.enqueue(
            func,
            ids[start : start + size],
            job_id=job_id,
            job_timeout=900,
            retry=RETRY,
            result_ttl=24 * 3600,
            failure_ttl=7 * 24 * 3600,
        )
        enqueued.append(job_id)
    log.info("fetch jobs enqueued", extra={"kind": kind, "enqueued": len(enqueued), "already_there": len(existing)})
    return {"kind": kind, "products": len(ids), "enqueued": enqueued, "already_there": existing}


# The schedule's entries take no arguments: one function per fan-out.
def enqueue_ebay_listings() -> dict[str, Any]:
    return enqueue_fetches("ebay-listings")


def enqueue_ebay_sales() -> dict[str, Any]:
    return enqueue_fetches("ebay-sales")


def enqueue_tcgplayer_prices() -> dict[str, Any]:
    return enqueue_fetches("tcgplayer-prices")


# TCGplayer category of each of our games (jobs/marketplaces/tcgplayer.py lists the ids' sources).
TCGPLAYER_CATEGORIES = {
    "mtg": 1,
    "yugioh": 2,
    "pokemon": 3,
    "flesh-and-blood": 62,
    "digimon": 63,
    "one-piece": 68,
    "lorcana": 71,
    "star-wars-unlimited": 79,
    "dragon-ball-fusion": 80,
}


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


def map_tcgplayer_products() -> dict[str, Any]:
    """Catalog look-up: give products without a TCGplayer source the TCGplayer product whose name is
    exactly theirs among the sealed products of their game. Only an unambiguous match is taken."""
    config = MarketplaceConfig.from_env()
    if not config.tcgplayer.configured:
        return _skipped(tcgplayer.MARKETPLACE, ["TCGPLAYER_PUBLIC_KEY", "TCGPLAYER_PRIVATE_KEY"])
    with _run("map-tcgplayer-products", tcgplayer.MARKETPLACE, None) as run:
        unmapped = run.conn.execute(
            query("marketplaces/unmapped_products"), {"marketplace": tcgplayer.MARKETPLACE}
        ).fetchall()
        api = tcgplayer.TcgplayerApi(config.tcgplayer, run.redis, run.recorder, config.user_agent)
        for product_id, name, game in unmapped:
            category = TCGPLAYER_CATEGORIES.get(game)
            if category is None:
                run.result.rejected["no_tcgplayer_category"] += 1
                continue
            try:
                found = api.search_sealed(category, name)
            except MarketplaceError as exc:
                run.fail(f"product {product_id}: catalog look-up failed: {exc}")
                continue
            matches = {
                str(r["productId"]) for r in found if _same_name(str(r.get("name") or r.get("cleanName") or ""), name)
            }
            if len(matches) != 1:
                run.result.rejected["no_match" if not matches else "ambiguous_match"] += 1
                continue
            cur = run.conn.execute(
                query("marketplaces/insert_external_source"),
                {"product_id": product_id, "marketplace": tcgplayer.MARKETPLACE, "external_id": matches.pop()},
            )
            run.result.written["product_sources"] += cur.rowcount
    return run.summary()
