"""Product sources: how each marketplace names our products, with their listing filters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg

from jobs.marketplaces.filters import SourceRules
from service.core.sql import query


@dataclass(frozen=True)
class ProductSource:
    product_id: int
    external_id: str | None
    search_query: str | None
    category_id: str | None
    rules: SourceRules
    name: str


def load_sources(
    conn: psycopg.Connection[Any], marketplace: str, product_ids: Sequence[int] | None = None
) -> list[ProductSource]:
    rows = (
        conn.cursor(row_factory=psycopg.rows.dict_row)
        .execute(
            query("marketplaces/sources"),
            {"marketplace": marketplace, "product_ids": list(product_ids) if product_ids is not None else None},
        )
        .fetchall()
    )
    return [
        ProductSource(
            product_id=row["product_id"],
            external_id=row["external_id"],
            search_query=row["search_query"],
            category_id=row["category_id"],
            rules=SourceRules(
                exclude_terms=tuple(row["exclude_terms"] or ()),
                price_min=Decimal(row["price_min_usd"]) if row["price_min_usd"] is not None else None,
                price_max=Decimal(row["price_max_usd"]) if row["price_max_usd"] is not None else None,
                packs_per_box=row["packs_per_box"],
            ),
            name=row["name"],
        )
        for row in rows
    ]


def with_reference_bands(
    conn: psycopg.Connection[Any], sources: Sequence[ProductSource], band: tuple[float, float], days: int = 14
) -> list[ProductSource]:
    """Sources without a price band get one around their product's latest TCGplayer market price."""
    low, high = band
    open_sources = [s for s in sources if s.rules.price_min is None and s.rules.price_max is None]
    if not open_sources or (low, high) == (0, 0):
        return list(sources)
    rows = conn.execute(
        query("marketplaces/reference_prices"), {"product_ids": [s.product_id for s in open_sources], "days": days}
    ).fetchall()
    reference = {int(r[0]): Decimal(r[1]) for r in rows}
    cents = Decimal("0.01")

    def banded(source: ProductSource) -> ProductSource:
        price = reference.get(source.product_id)
        if price is None or source.rules.price_min is not None or source.rules.price_max is not None:
            return source
        rules = replace(
            source.rules,
            price_min=(price * Decimal(str(low))).quantize(cents, ROUND_HALF_UP),
            price_max=(price * Decimal(str(high))).quantize(cents, ROUND_HALF_UP),
        )
        return replace(source, rules=rules)

    return [banded(s) for s in sources]
