"""Product sources: how each marketplace names our products, with their listing filters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg

from jobs.marketplaces.filters import SourceRules
from service.sql import query


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
