"""The signed-in user's watchlist (favorites), with leaderboard metrics."""

from __future__ import annotations

from typing import Any

from service.api.auth import tokens
from service.api.blueprint import Blueprint
from service.api.catalog.routes import find_product
from service.api.common import PageArgs, envelope, latest_day, split_row
from service.api.errors import ApiError
from service.api.watchlist.schemas import WatchlistAdd, WatchlistPage
from service.extensions import database

blp = Blueprint("watchlist", __name__, url_prefix="/api/v1/me/watchlist", description="The user's watchlist")


@blp.route("")
@blp.login_required
@blp.arguments(PageArgs, location="query")
@blp.response(200, WatchlistPage)
def watchlist(args: dict[str, Any]) -> dict[str, Any]:
    """The watched products, newest first, with the latest day's metrics and rank."""
    rows = database().fetch_all(
        "watchlist/list",
        {"user_id": tokens.current_user_id(), "day": latest_day(), "limit": args["limit"], "offset": args["offset"]},
    )
    items = []
    for row in rows:
        shaped = split_row({k: v for k, v in row.items() if k != "added_at"})
        if shaped["metrics"].get("day") is None:
            shaped["metrics"] = None
        items.append({"added_at": row["added_at"], **shaped})
    return envelope(items, total=rows[0]["total"] if rows else 0, limit=args["limit"], offset=args["offset"])


@blp.route("", methods=["POST"])
@blp.alt_response(404, description="No such product")
@blp.login_required
@blp.arguments(WatchlistAdd)
@blp.response(201, WatchlistAdd)
def add_watchlist_item(body: dict[str, Any]) -> dict[str, Any]:
    """Watch a product (adding one already watched changes nothing)."""
    product = find_product(body["product"])
    database().fetch_one("watchlist/add", {"user_id": tokens.current_user_id(), "product_id": product["id"]})
    return {"product": product["slug"]}


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
