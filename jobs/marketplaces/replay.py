"""Replay: re-parse a run's stored raw payloads through the adapters' own parsers and the ingest
writer. Idempotent like any ingest: snapshots already registered are skipped, sales and price points
have natural keys. Useful after a parser or filter fix, or to rebuild observations from payloads.

A listing snapshot is replayed only if every page of it was stored answered (the same rule as a live
fetch); the filters are the product sources' current rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg

from jobs.fetch import write_sales_pages  # the same "new units only" rule as a live fetch
from jobs.marketplaces import ebay, tcgplayer
from jobs.marketplaces.config import MarketplaceConfig
from jobs.marketplaces.http import MarketplaceError
from jobs.marketplaces.sources import ProductSource, load_sources, with_reference_bands
from service.core.ingest import writer
from service.core.ingest.after import after_listings
from service.core.ingest.records import ListingBatch, Snapshot
from service.core.sql import query


class ReplayError(ValueError):
    """The run cannot be replayed (unknown, or still running)."""


@dataclass
class ReplayReport:
    run_id: int
    replay_of: int
    payloads: int = 0
    result: writer.WriteResult = field(default_factory=writer.WriteResult)
    inferred_sales: int = 0


def _snapshot_pages(bodies: Mapping[int, Any], limit: int) -> list[Any] | None:
    """The pages of one snapshot in order, or None unless every page up to the last is there."""
    pages: list[Any] = []
    offset = 0
    while offset in bodies:
        page = ebay.parse_search_page(bodies[offset])
        pages.append(bodies[offset])
        offset += limit
        if ebay.page_is_last(page, offset):
            return pages
    return None


def replay_run(conninfo: str, run_id: int) -> ReplayReport:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        run = cur.execute(query("marketplaces/run"), {"run_id": run_id}).fetchone()
        if run is None:
            raise ReplayError(f"no ingest run {run_id}")
        if run["status"] == "running":
            raise ReplayError(f"run {run_id} is still running")
        payloads = cur.execute(query("marketplaces/run_payloads"), {"run_id": run_id}).fetchall()
        new_run = writer.start_run(conn, "replay", marketplace=run["marketplace"], product_ids=run["product_ids"])
        report = ReplayReport(run_id=new_run, replay_of=run_id, payloads=len(payloads))
        try:
            _replay(conn, payloads, report)
        except Exception as exc:
            writer.finish_run(conn, new_run, report.result, status="failed", error=f"{type(exc).__name__}: {exc}")
            raise
        finally:
            conn.execute(
                query("marketplaces/finish_run_http"), {"run_id": new_run, "http_errors": 0, "replay_of": run_id}
            )
        writer.finish_run(conn, new_run, report.result)
    return report


def _replay(conn: psycopg.Connection[Any], payloads: list[dict[str, Any]], report: ReplayReport) -> None:
    browse: dict[tuple[int, str], dict[int, Any]] = defaultdict(dict)
    limits: dict[tuple[int, str], int] = {}
    sales: dict[int, list[Any]] = defaultdict(list)
    result = report.result
    for payload in payloads:
        context, body = payload["context"] or {}, payload["body"]
        if payload["status"] != 200 or not isinstance(body, dict) or "raw" in body:
            continue  # failed calls and bodies that were not JSON
        kind = context.get("kind")
        if kind == "ebay.browse":
            key = (int(context["product_id"]), str(context["observed_at"]))
            try:
                ebay.parse_search_page(body)
            except MarketplaceError:
                continue
            browse[key][int(context["offset"])] = body  # a retried page: the last good answer counts
            limits[key] = int(context["limit"])
        elif kind == "ebay.sales":
            sales[int(context["product_id"])].append(body)
        elif kind in ("tcgplayer.pricing", "tcgcsv.prices"):
            observed_at = datetime.fromisoformat(context["observed_at"])
            products = {str(k): int(v) for k, v in context["products"].items()}
            points, rejected = tcgplayer.price_points(tcgplayer.results(body), products, observed_at)
            result.rejected.update(rejected)
            result.add(writer.write_price_points(conn, tcgplayer.MARKETPLACE, points, run_id=report.run_id))

    product_ids = sorted({pid for pid, _ in browse} | set(sales))
    band = MarketplaceConfig.from_env().ebay.auto_band
    loaded = with_reference_bands(conn, load_sources(conn, ebay.MARKETPLACE, product_ids), band)
    sources: dict[int, ProductSource] = {s.product_id: s for s in loaded}
    snapshots: list[Snapshot] = []
    for (pid, stamp), bodies in sorted(browse.items()):
        pages = _snapshot_pages(bodies, limits[(pid, stamp)])
        if pages is None or pid not in sources:
            result.rejected["incomplete_snapshot" if pages is None else "unknown_source"] += 1
            continue
        listings, rejected = ebay.listings_from_pages(pages, sources[pid])
        result.rejected.update(rejected)
        snapshots.append(Snapshot(pid, datetime.fromisoformat(stamp), listings))
    if snapshots:
        batch = ListingBatch.from_snapshots(ebay.MARKETPLACE, snapshots)
        result.add(writer.write_listing_batch(conn, batch, run_id=report.run_id))
        since = min(s.observed_at for s in snapshots)
        report.inferred_sales = after_listings(conn, ebay.MARKETPLACE, product_ids, since=since)
    for pid, pages in sorted(sales.items()):
        if pid in sources:
            write_sales_pages(conn, result, sources[pid], pages, report.run_id)
