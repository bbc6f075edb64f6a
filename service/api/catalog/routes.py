"""Games and products: GET /api/v1/games, /api/v1/products, /api/v1/products/{id or slug}."""

from __future__ import annotations

import functools
import re
from typing import Any

from psycopg import sql

from service.api.blueprint import Blueprint
from service.api.caching import cached
from service.api.catalog.schemas import GameList, ProductArgs, ProductDetail, ProductList, ProductListArgs
from service.api.common import envelope, filter_conditions, filter_params, given_filters, latest_day
from service.api.errors import ApiError
from service.core.sql import query, rendered
from service.extensions import database

blp = Blueprint("catalog", __name__, url_prefix="/api/v1", description="Games and sealed products")

_PRODUCT_REF = re.compile(r"^(\d{1,9}|[a-z0-9]+(-[a-z0-9]+)*)\Z")


def find_product(ref: str) -> dict[str, Any]:
    """A product by numeric id or slug: 400 for a malformed reference, 404 when there is none."""
    if not _PRODUCT_REF.match(ref) or len(ref) > 200:
        raise ApiError(
            400, "A product is named by its numeric id or its slug.", details={"path": {"product": [ref[:80]]}}
        )
    row = database().fetch_one("api/product", {"id": int(ref) if ref.isdigit() else None, "slug": ref}, prepared=True)
    if row is None:
        raise ApiError(404, f"No product {ref!r}.")
    return row


@functools.lru_cache(maxsize=64)
def products_statement(filters: tuple[str, ...]) -> sql.SQL:
    """Catalog search with the filters given, composed and rendered once per combination."""
    return rendered(sql.SQL(query("api/products")).format(filters=filter_conditions(filters)))


@blp.route("/games")
@cached()
@blp.response(200, GameList)
def games() -> dict[str, Any]:
    """Every game with its number of active products."""
    rows = database().fetch_all("api/games")
    return envelope(rows, total=len(rows), limit=len(rows), offset=0)


@blp.route("/products")
@cached()
@blp.arguments(ProductListArgs, location="query")
@blp.response(200, ProductList)
def products(args: dict[str, Any]) -> dict[str, Any]:
    """Search the catalog (with each product's floor and market price on the day)."""
    params = {"day": args.get("date") or latest_day(), **filter_params(args)}
    with database().reading(prepared=True) as conn:
        rows = conn.execute(products_statement(given_filters(params)), params).fetchall()
    total = rows[0]["total"] if rows else 0
    return envelope(rows, total=total, limit=args["limit"], offset=args["offset"])


@blp.route("/products/<string:product>")
@cached()
@blp.arguments(ProductArgs, location="query")
@blp.response(200, ProductDetail)
@blp.alt_response(404, description="No such product")
def get_product(args: dict[str, Any], product: str) -> dict[str, Any]:
    """A product: catalog facts, its metrics for the day, its ranks and a per-marketplace breakdown."""
    found = find_product(product)
    metrics = database().fetch_one("api/product_metrics", {"product_id": found["id"], "day": args.get("date")})
    day = metrics["day"] if metrics else args.get("date")
    ranks = database().fetch_all("api/product_ranks", {"product_id": found["id"], "day": day}) if metrics else []
    marketplaces = (
        database().fetch_all("api/product_marketplaces", {"product_id": found["id"], "day": day}) if day else []
    )
    return {"product": found, "metrics": metrics, "ranks": ranks, "marketplaces": marketplaces}
