"""The eBay adapter: active listings (Browse) become listing snapshots, sold items (Marketplace
Insights) become reported sales. Its settings, client and parsers: jobs/marketplaces/ebay_api.py.

A snapshot is complete only if every page was fetched: one page that still fails after retries fails
that product's snapshot as a whole. A spent daily quota opens that API's circuit and defers the rest
of the work to after the reset (jobs/marketplaces/fetch.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg

from jobs.marketplaces import fetch, registry
from jobs.marketplaces.base import Adapter, FanOut, Payload, ReplayReport
from jobs.marketplaces.ebay_api import (
    BROWSE_CIRCUIT,
    BROWSE_PAYLOAD,
    INSIGHTS_CIRCUIT,
    MARKETPLACE,
    SALES_PAYLOAD,
    EbayApi,
    EbayConfig,
    listings_from_pages,
    page_is_last,
    parse_sales_page,
    parse_search_page,
    sales_from_pages,
)
from jobs.marketplaces.http import MarketplaceError, QuotaExhausted
from jobs.marketplaces.sources import ProductSource, load_sources, with_reference_bands
from jobs.periodic import Entry
from service.core.ingest import writer
from service.core.ingest.after import write_listings
from service.core.ingest.records import ListingBatch, Snapshot
from service.core.marketplaces import Marketplace
from service.core.sql import query

SALES_LOOKBACK = timedelta(days=90)  # Marketplace Insights serves the last 90 days
BATCH = 25  # products per fetch job: a product costs one call per 200 listings


def missing_keys(config: EbayConfig) -> list[str]:
    return [] if config.configured else ["EBAY_CLIENT_ID", "EBAY_CLIENT_SECRET"]


def _missing_for_sales(config: EbayConfig) -> list[str]:
    return missing_keys(config) or ([] if config.insights_enabled else ["EBAY_INSIGHTS_ENABLED"])


def _sources(
    conn: psycopg.Connection[Any], config: EbayConfig, product_ids: Sequence[int] | None
) -> list[ProductSource]:
    sources = [s for s in load_sources(conn, MARKETPLACE, product_ids) if s.search_query]
    return with_reference_bands(conn, sources, config.auto_band)


# --- Browse: listing snapshots ---------------------------------------------------------------------


def fetch_listings(product_ids: list[int] | None = None) -> dict[str, Any]:
    """Active eBay listings of each product (Browse search, every page) -> one listing snapshot each."""
    return fetch.job(ADAPTER, "fetch-ebay-listings", _listings, product_ids)


def _listings(run: fetch.Run, config: EbayConfig) -> None:
    sources = _sources(run.conn, config, run.product_ids)
    if not run.circuit_open(BROWSE_CIRCUIT, fetch_listings, {"product_ids": run.product_ids}):
        _snapshots(run, EbayApi(config, run.redis, run.recorder), sources)


def _already_observed(run: fetch.Run, sources: Sequence[ProductSource]) -> set[int]:
    rows = run.conn.execute(
        query("marketplaces/snapshots_at"),
        {"marketplace": MARKETPLACE, "observed_at": run.observed_at, "product_ids": [s.product_id for s in sources]},
    ).fetchall()
    return {int(r[0]) for r in rows}


def _snapshots(run: fetch.Run, api: EbayApi, sources: Sequence[ProductSource]) -> None:
    done = _already_observed(run, sources)
    run.result.skipped["snapshots"] += len(done)
    pending = [s for s in sources if s.product_id not in done]
    for index, source in enumerate(pending):
        try:
            pages = api.fetch_listing_pages(source, run.observed_at)
            listings, rejected = listings_from_pages(pages, source)
        except QuotaExhausted as exc:
            run.defer(fetch_listings, {"product_ids": [s.product_id for s in pending[index:]]}, exc.until)
            return
        except MarketplaceError as exc:
            # One bad page fails the whole snapshot: none of its rows are written. On the last attempt
            # the registry records it as incomplete (so it is seen, and never used); before that the
            # instant stays free for the retry.
            run.result.rejected["incomplete_snapshot"] += 1
            run.fail(f"product {source.product_id}: snapshot not taken: {exc}")
            if fetch.last_attempt():
                failed = Snapshot(source.product_id, run.observed_at, [], complete=False)
                run.write_listings(ListingBatch.from_snapshots(MARKETPLACE, [failed]))
            continue
        run.result.rejected.update(rejected)
        snapshot = Snapshot(source.product_id, run.observed_at, listings)
        run.write_listings(ListingBatch.from_snapshots(MARKETPLACE, [snapshot]))


# --- Marketplace Insights: sales -------------------------------------------------------------------


def fetch_sales(product_ids: list[int] | None = None) -> dict[str, Any]:
    """Sold eBay items of each product (Marketplace Insights) -> reported sales."""
    return fetch.job(ADAPTER, "fetch-ebay-sales", _sales, product_ids, missing=_missing_for_sales)


def _sales(run: fetch.Run, config: EbayConfig) -> None:
    sources = _sources(run.conn, config, run.product_ids)
    if run.circuit_open(INSIGHTS_CIRCUIT, fetch_sales, {"product_ids": run.product_ids}):
        return
    api = EbayApi(config, run.redis, run.recorder)
    for index, source in enumerate(sources):
        try:
            last = run.conn.execute(
                query("marketplaces/last_sale"), {"marketplace": MARKETPLACE, "product_id": source.product_id}
            ).fetchone()
            since = last[0] - timedelta(days=1) if last and last[0] else run.observed_at - SALES_LOOKBACK
            pages = api.fetch_sale_pages(source, since)
        except QuotaExhausted as exc:
            run.defer(fetch_sales, {"product_ids": [s.product_id for s in sources[index:]]}, exc.until)
            return
        except MarketplaceError as exc:
            run.fail(f"product {source.product_id}: sales not fetched: {exc}")
            continue
        write_sales_pages(run.conn, run.result, source, pages, run.run_id)


def write_sales_pages(
    conn: psycopg.Connection[Any], result: writer.WriteResult, source: ProductSource, pages: Sequence[Any], run_id: int
) -> None:
    """The sales of a product's Insights pages that are new: units beyond those already recorded per
    listing (a live fetch and a replay alike)."""
    ids = sorted({str(i.get("legacyItemId") or i.get("itemId")) for p in pages for i in parse_sales_page(p).items})
    recorded = {
        row[0]: int(row[1])
        for row in conn.execute(
            query("marketplaces/sold_units"),
            {"marketplace": MARKETPLACE, "product_id": source.product_id, "listing_ids": ids},
        )
    }
    sales, rejected = sales_from_pages(pages, source, recorded)
    result.rejected.update(rejected)
    result.add(writer.write_sales(conn, MARKETPLACE, sales, run_id=run_id))


# --- fan-out: what the schedule runs (its entries take no arguments) -------------------------------


def enqueue_listings() -> dict[str, Any]:
    return fetch.enqueue_fetches("ebay-listings")


def enqueue_sales() -> dict[str, Any]:
    return fetch.enqueue_fetches("ebay-sales")


# --- replay ----------------------------------------------------------------------------------------


def _snapshot_pages(bodies: Mapping[int, Any], limit: int) -> list[Any] | None:
    """The pages of one snapshot in order, or None unless every page up to the last is there."""
    pages: list[Any] = []
    offset = 0
    while offset in bodies:
        page = parse_search_page(bodies[offset])
        pages.append(bodies[offset])
        offset += limit
        if page_is_last(page, offset):
            return pages
    return None


def replay(
    conn: psycopg.Connection[Any], config: EbayConfig, payloads: Sequence[Payload], report: ReplayReport
) -> None:
    """A snapshot is replayed only if every page of it was stored answered (the same rule as a live
    fetch); the filters are the product sources' current rules."""
    browse: dict[tuple[int, str], dict[int, Any]] = defaultdict(dict)
    limits: dict[tuple[int, str], int] = {}
    sales: dict[int, list[Any]] = defaultdict(list)
    result = report.result
    for payload in payloads:
        context, body = payload["context"], payload["body"]
        if context["kind"] == BROWSE_PAYLOAD:
            key = (int(context["product_id"]), str(context["observed_at"]))
            try:
                parse_search_page(body)
            except MarketplaceError:
                continue
            browse[key][int(context["offset"])] = body  # a retried page: the last good answer counts
            limits[key] = int(context["limit"])
        elif context["kind"] == SALES_PAYLOAD:
            sales[int(context["product_id"])].append(body)

    product_ids = sorted({pid for pid, _ in browse} | set(sales))
    loaded = with_reference_bands(conn, load_sources(conn, MARKETPLACE, product_ids), config.auto_band)
    sources: dict[int, ProductSource] = {s.product_id: s for s in loaded}
    snapshots: list[Snapshot] = []
    for (pid, stamp), bodies in sorted(browse.items()):
        pages = _snapshot_pages(bodies, limits[(pid, stamp)])
        if pages is None or pid not in sources:
            result.rejected["incomplete_snapshot" if pages is None else "unknown_source"] += 1
            continue
        listings, rejected = listings_from_pages(pages, sources[pid])
        result.rejected.update(rejected)
        snapshots.append(Snapshot(pid, datetime.fromisoformat(stamp), listings))
    if snapshots:
        batch = ListingBatch.from_snapshots(MARKETPLACE, snapshots)
        written, inferred = write_listings(conn, batch, run_id=report.run_id)
        result.add(written)
        report.inferred_sales += inferred
    for pid, pages in sorted(sales.items()):
        if pid in sources:
            write_sales_pages(conn, result, sources[pid], pages, report.run_id)


ADAPTER = registry.register(
    __name__,
    Adapter(
        # Without Marketplace Insights eBay reports no sales: they are inferred from listing changes.
        Marketplace(MARKETPLACE, "eBay", has_sold_feed=True, market_price_source=False),
        read_config=EbayConfig.read,
        missing=missing_keys,
        fan_outs=(
            FanOut("ebay-listings", fetch_listings, BATCH, "search_query"),
            FanOut("ebay-sales", fetch_sales, BATCH, "search_query"),
        ),
        schedule=(
            Entry("ebay-listings", f"{__name__}.enqueue_listings", "0 */6 * * *", timeout=60),
            Entry("ebay-sales", f"{__name__}.enqueue_sales", "30 5 * * *", timeout=60),
        ),
        replays=frozenset({BROWSE_PAYLOAD, SALES_PAYLOAD}),
        replay=replay,
        sold_feed=lambda config: config.insights_enabled,
    ),
)
