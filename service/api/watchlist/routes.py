"""The signed-in user's watchlist (favorites), with leaderboard metrics."""

from __future__ import annotations

from typing import Any

from service.api.auth import tokens
from service.api.blueprint import Blueprint
from service.api.catalog.routes import find_product
from service.api.common import PageArgs, envelope, latest_day, split_row
from service.api.errors import ApiError
from service.api.watchlist.schemas import WatchlistAdd, WatchlistItem, WatchlistPage
from service.core.sql import query
from service.extensions import database

blp = Blueprint("watchlist", __name__, url_prefix="/api/v1/me/watchlist", description="The user's watchlist")


@blp.route("")
@blp.login_required
@blp.arguments(PageArgs, location="query")
@blp.response(200, WatchlistPage)
def watchlist(args: dict[str, Any]) -> dict[str, Any]:
    """The watched products, newest first, with the latest day's metrics and rank."""
    rows = _items(limit=args["limit"], offset=args["offset"])
    total = rows[0]["total"] if rows else 0
    return envelope([_shaped(row) for row in rows], total=total, limit=args["limit"], offset=args["offset"])


def _items(*, product_id: int | None = None, limit: int = 1, offset: int = 0) -> list[dict[str, Any]]:
    params = {"user_id": tokens.current_user_id(), "day": latest_day(), "product_id": product_id}
    return database().fetch_all("watchlist/list", {**params, "limit": limit, "offset": offset})


def _shaped(row: dict[str, Any]) -> dict[str, Any]:
    shaped = split_row({k: v for k, v in row.items() if k != "added_at"})
    if shaped["metrics"].get("day") is None:
        shaped["metrics"] = None
    return {"added_at": row["added_at"], **shaped}


@blp.route("", methods=["POST"])
@blp.alt_response(404, description="No such product")
@blp.login_required
@blp.arguments(WatchlistAdd)
@blp.response(201, WatchlistItem)
def add_watchlist_item(body: dict[str, Any]) -> dict[str, Any]:
    """Watch a product (adding one already watched changes nothing); the item as the watchlist lists it."""
    product = find_product(body["product"])
    params = {"user_id": tokens.current_user_id(), "product_id": product["id"]}
    # One transaction: a DELETE of the same item by a concurrent request cannot slip between the two.
    with database().connection() as conn:
        conn.execute(query("watchlist/add"), params)
        item = conn.execute(query("watchlist/list"), {**params, "day": latest_day(), "limit": 1, "offset": 0})
        row = item.fetchone()
    assert row is not None  # inserted or locked just above
    return _shaped(row)


@blp.route("/<string:product>", methods=["DELETE"])
@blp.login_required
@blp.response(204)
@blp.alt_response(404, description="Not on the watchlist")
def remove_watchlist_item(product: str) -> None:
    """Stop watching a product."""
    found = find_product(product)
    if (
        database().fetch_one("watchlist/remove", {"user_id": tokens.current_user_id(), "product_id": found["id"]})
        is None
    ):
        raise ApiError(404, f"{found['slug']!r} is not on your watchlist.")
