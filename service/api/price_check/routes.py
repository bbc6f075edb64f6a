"""GET /api/v1/price-check: is this listing a good price? For a browser extension or a shopping client."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from service.api.blueprint import Blueprint
from service.api.catalog.routes import find_product
from service.api.common import like_pattern
from service.api.errors import ApiError
from service.api.price_check.schemas import PriceCheck, PriceCheckArgs
from service.extensions import database

blp = Blueprint("price_check", __name__, url_prefix="/api/v1/price-check", description="Listing price verdicts")

FAIR_PREMIUM = Decimal("1.10")


def _resolve(args: dict[str, Any]) -> dict[str, Any]:
    if "product" in args:
        return find_product(args["product"])
    if "tcgplayer_id" in args:
        row = database().fetch_one("api/product_by_tcgplayer_id", {"external_id": str(args["tcgplayer_id"])})
    else:
        words = [w for w in re.split(r"\s+", args["q"].strip()) if w][:10]
        row = database().fetch_one("api/product_by_text", {"patterns": [like_pattern(w) for w in words]})
    if row is None:
        raise ApiError(404, "No product matches.")
    return find_product(str(row["id"]))


def verdict(price: Decimal, floor: Decimal | None) -> str:
    if floor is None:
        return "unknown"
    if price <= floor:
        return "good"
    return "fair" if price <= FAIR_PREMIUM * floor else "overpriced"


@blp.route("")
@blp.arguments(PriceCheckArgs, location="query")
@blp.response(200, PriceCheck)
@blp.alt_response(404, description="No product matches")
def check_price(args: dict[str, Any]) -> dict[str, Any]:
    """Verdict for a listing price against the product's floor (good, fair or overpriced)."""
    product = _resolve(args)
    metrics = database().fetch_one("api/product_metrics", {"product_id": product["id"], "day": None}) or {}
    floor = metrics.get("floor_price")
    return {
        "product_id": product["id"],
        "slug": product["slug"],
        "name": product["name"],
        "price": args["price"],
        "verdict": verdict(args["price"], floor),
        "floor_price": floor,
        "market_price": metrics.get("market_price"),
        "floor_change_pct_7d": metrics.get("floor_change_pct_7d"),
        "liquidity_score": metrics.get("liquidity_score"),
        "liquidity_label": metrics.get("liquidity_label"),
        "day": metrics.get("day"),
    }
