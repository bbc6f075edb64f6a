"""The TCGplayer adapter: TCGplayer's prices become `tcgplayer` price points, from two sources of the
same numbers: the official API (keys needed, any time, 250 products a call) and tcgcsv, its free
daily mirror (no key, one sync a day). A catalog look-up maps our products to TCGplayer's by exact
name. Settings, clients and parsers: jobs/marketplaces/tcgplayer_api.py.

The mirror is part of this adapter rather than one of its own: it writes the same marketplace, for
the same product sources, in the same shapes; only its settings, rate limit and schedule are its own.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from jobs.marketplaces import fetch, registry
from jobs.marketplaces.base import Adapter, FanOut, Payload, ReplayReport
from jobs.marketplaces.http import MarketplaceError
from jobs.marketplaces.sources import load_sources
from jobs.marketplaces.tcgplayer_api import (
    CATEGORIES,
    MARKETPLACE,
    MAX_IDS_PER_CALL,
    MIRROR,
    MIRROR_PAYLOAD,
    PRICING_PAYLOAD,
    TcgcsvApi,
    TcgcsvConfig,
    TcgplayerApi,
    TcgplayerConfig,
    batches,
    image_urls,
    price_points,
    results,
)
from jobs.periodic import Entry
from service.core import images
from service.core.ingest import writer
from service.core.marketplaces import Marketplace
from service.core.settings import Env
from service.core.sql import query

log = logging.getLogger(__name__)

LAST_UPDATED_KEY = "boxpro:marketplace:tcgcsv:last_updated"


@dataclass(frozen=True)
class Config:
    api: TcgplayerConfig
    mirror: TcgcsvConfig


def read_config(env: Env) -> Config:
    return Config(api=TcgplayerConfig.read(env), mirror=TcgcsvConfig.read(env))


def missing_keys(config: Config) -> list[str]:
    return [] if config.api.configured else ["TCGPLAYER_PUBLIC_KEY", "TCGPLAYER_PRIVATE_KEY"]


def _missing_for_mirror(config: Config) -> list[str]:
    return [] if config.mirror.configured else ["TCGCSV_USER_AGENT"]


def _product_map(conn: psycopg.Connection[Any], product_ids: Sequence[int] | None = None) -> dict[str, int]:
    """TCGplayer product id -> ours, for the products with a TCGplayer source."""
    sources = load_sources(conn, MARKETPLACE, product_ids)
    return {str(s.external_id): s.product_id for s in sources if s.external_id}


# --- the official API ------------------------------------------------------------------------------


def fetch_prices(product_ids: list[int] | None = None) -> dict[str, Any]:
    """TCGplayer market/low/mid/high/direct-low prices of each product, 250 product ids a call."""
    return fetch.job(ADAPTER, "fetch-tcgplayer-prices", _prices, product_ids)


def _prices(run: fetch.Run, config: Config) -> None:
    product_map = _product_map(run.conn, run.product_ids)
    api = TcgplayerApi(config.api, run.redis, run.recorder)
    for ids in batches(sorted(product_map)):
        batch_map = {i: product_map[i] for i in ids}
        context = {"kind": PRICING_PAYLOAD, "observed_at": run.observed_at.isoformat(), "products": batch_map}
        try:
            rows = api.pricing(ids, context)
        except MarketplaceError as exc:
            run.fail(f"products {ids[0]}..{ids[-1]} ({len(ids)}): prices not fetched: {exc}")
            continue
        points, rejected = price_points(rows, batch_map, run.observed_at)
        run.result.rejected.update(rejected)
        run.result.add(writer.write_price_points(run.conn, MARKETPLACE, points, run_id=run.run_id))


def enqueue_prices() -> dict[str, Any]:
    """The schedule's fan-out of fetch_prices (its entries take no arguments)."""
    return fetch.enqueue_fetches("tcgplayer-prices")


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


def map_products() -> dict[str, Any]:
    """Catalog look-up: give products without a TCGplayer source the TCGplayer product whose name is
    exactly theirs among the sealed products of their game. Only an unambiguous match is taken, and
    its image URL with it; products mapped otherwise (the catalog CSV, an admin) get theirs from the
    catalog's product details."""
    return fetch.job(ADAPTER, "map-tcgplayer-products", _map)


def _map(run: fetch.Run, config: Config) -> None:
    unmapped = run.conn.execute(query("marketplaces/unmapped_products"), {"marketplace": MARKETPLACE}).fetchall()
    api = TcgplayerApi(config.api, run.redis, run.recorder)
    for product_id, name, game in unmapped:
        category = CATEGORIES.get(game)
        if category is None:
            run.result.rejected["no_tcgplayer_category"] += 1
            continue
        try:
            found = api.search_sealed(category, name)
        except MarketplaceError as exc:
            run.fail(f"product {product_id}: catalog look-up failed: {exc}")
            continue
        matches = {
            str(r["productId"]): r for r in found if _same_name(str(r.get("name") or r.get("cleanName") or ""), name)
        }
        if len(matches) != 1:
            run.result.rejected["no_match" if not matches else "ambiguous_match"] += 1
            continue
        external_id, row = matches.popitem()
        cur = run.conn.execute(
            query("marketplaces/insert_external_source"),
            {"product_id": product_id, "marketplace": MARKETPLACE, "external_id": external_id},
        )
        run.result.written["product_sources"] += cur.rowcount
        _record_images(run, image_urls([row], {external_id: product_id}))
    _catalog_images(run, api)


def _catalog_images(run: fetch.Run, api: TcgplayerApi) -> None:
    """The image URLs of mapped products that have none yet, 250 product details a call."""
    rows = run.conn.execute(query("images/mapped_without_image"), {"marketplace": MARKETPLACE}).fetchall()
    product_map = {str(external_id): product_id for external_id, product_id in rows}
    for ids in batches(sorted(product_map)):
        try:
            details = api.products(ids)
        except MarketplaceError as exc:
            run.fail(f"products {ids[0]}..{ids[-1]} ({len(ids)}): catalog details not fetched: {exc}")
            continue
        _record_images(run, image_urls(details, product_map))


def _record_images(run: fetch.Run, urls: dict[int, str]) -> None:
    """Keep the image URLs TCGplayer gives, and queue the downloads of those that changed."""
    changed = images.record_sources(run.conn, urls)
    if changed:
        run.result.written["image_source_urls"] += len(changed)
        images.request_downloads(run.redis, changed)


# --- the tcgcsv mirror -----------------------------------------------------------------------------


def fetch_mirror_prices(force: bool = False) -> dict[str, Any]:
    """The daily TCGplayer price mirror: every group of the configured categories, our products only.
    Skipped while the mirror's last-updated stamp has not moved (their etiquette: one sync a day)."""
    return fetch.job(
        ADAPTER,
        "fetch-tcgcsv-prices",
        lambda run, config: _mirror(run, config, force),
        missing=_missing_for_mirror,
        name=MIRROR,
    )


def _mirror(run: fetch.Run, config: Config, force: bool) -> None:
    product_map = _product_map(run.conn)
    api = TcgcsvApi(config.mirror, run.redis, run.recorder)
    updated = api.last_updated()
    seen = run.redis.get(LAST_UPDATED_KEY)
    if not force and isinstance(seen, bytes) and seen.decode() == updated.isoformat():
        run.note = f"mirror unchanged since {updated.isoformat()}"
        return
    if not product_map:
        return
    available = set(api.categories())
    for category in [c for c in config.mirror.category_ids if c in available]:
        for group in api.groups(category):
            context = {"kind": MIRROR_PAYLOAD, "observed_at": updated.isoformat(), "products": product_map}
            try:
                rows = api.prices(category, group, context)
            except MarketplaceError as exc:
                run.fail(f"category {category} group {group}: prices not fetched: {exc}")
                continue
            points, rejected = price_points(rows, product_map, updated)
            run.result.rejected.update(rejected)
            run.result.add(writer.write_price_points(run.conn, MARKETPLACE, points, run_id=run.run_id))
            if any(str(row.get("productId")) in product_map for row in rows):
                _mirror_images(run, api, category, group, product_map)
    if not run.failures:
        run.redis.set(LAST_UPDATED_KEY, updated.isoformat())


def _mirror_images(run: fetch.Run, api: TcgcsvApi, category: int, group: int, product_map: dict[str, int]) -> None:
    """The image URLs of a group that holds products of ours, from its product list."""
    try:
        rows = api.products(category, group)
    except MarketplaceError as exc:  # images can wait for the next sync; the prices stand
        log.warning("tcgcsv product list not fetched", extra={"category": category, "group": group, "error": str(exc)})
        run.result.rejected["product_list_not_fetched"] += 1
        return
    _record_images(run, image_urls(rows, product_map))


# --- replay ----------------------------------------------------------------------------------------


def replay(conn: psycopg.Connection[Any], config: Config, payloads: Sequence[Payload], report: ReplayReport) -> None:
    """The API's and the mirror's price answers alike: each payload names its instant and products."""
    for payload in payloads:
        context = payload["context"]
        products = {str(k): int(v) for k, v in context["products"].items()}
        observed_at = datetime.fromisoformat(context["observed_at"])
        points, rejected = price_points(results(payload["body"]), products, observed_at)
        report.result.rejected.update(rejected)
        report.result.add(writer.write_price_points(conn, MARKETPLACE, points, run_id=report.run_id))


ADAPTER = registry.register(
    __name__,
    Adapter(
        Marketplace(MARKETPLACE, "TCGplayer", has_sold_feed=False, market_price_source=True),
        read_config=read_config,
        missing=missing_keys,
        fan_outs=(FanOut("tcgplayer-prices", fetch_prices, MAX_IDS_PER_CALL, "external_id"),),
        schedule=(
            Entry("tcgplayer-prices", f"{__name__}.enqueue_prices", "15 6 * * *", timeout=60),
            Entry("tcgcsv-prices", f"{__name__}.fetch_mirror_prices", "30 20 * * *", timeout=1800),
            Entry("tcgplayer-map", f"{__name__}.map_products", "45 4 * * 1", timeout=1800),
        ),
        replays=frozenset({PRICING_PAYLOAD, MIRROR_PAYLOAD}),
        replay=replay,
    ),
)
