"""The market as a whole: the index, its history, and the movers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from service.api.blueprint import Blueprint
from service.api.caching import cached
from service.api.common import PRODUCT_FIELDS, metrics_day, whole_list
from service.api.errors import ApiError
from service.api.market.schemas import IndexArgs, IndexHistory, IndexHistoryArgs, MarketIndex, Movers, MoversArgs
from service.extensions import database

blp = Blueprint("market", __name__, url_prefix="/api/v1", description="Market index and movers")

MAX_HISTORY_DAYS = 3 * 365


@blp.route("/market/index")
@cached()
@blp.arguments(IndexArgs, location="query")
@blp.response(200, MarketIndex)
@blp.alt_response(404, description="No index for that scope and day")
def market_index(args: dict[str, Any]) -> dict[str, Any]:
    """The market index for a day, over all games (scope=all) or one game."""
    row = database().fetch_one("api/market_index", {"scope": args["scope"], "day": metrics_day(args.get("date"))})
    if row is None:
        raise ApiError(404, f"No market index for scope {args['scope']!r} on that day.")
    return row


@blp.route("/market/index/history")
@cached()
@blp.alt_response(404, description="No metrics have been computed yet")
@blp.arguments(IndexHistoryArgs, location="query")
@blp.response(200, IndexHistory)
def market_index_history(args: dict[str, Any]) -> dict[str, Any]:
    """The index day by day over [from, to] (at most three years)."""
    last = args.get("to") or metrics_day(None)
    first = args.get("from_") or last - timedelta(days=90)
    if first > last or (last - first).days > MAX_HISTORY_DAYS:
        raise ApiError(
            422,
            "The request is not valid; see details.",
            details={"query": {"from": [f"must be on or before `to`, and at most {MAX_HISTORY_DAYS} days before"]}},
        )
    rows = database().fetch_all("api/market_index_history", {"scope": args["scope"], "from": first, "to": last})
    return whole_list(rows, scope=args["scope"], from_=first, to=last)


@blp.route("/movers")
@cached()
@blp.alt_response(404, description="No metrics have been computed yet")
@blp.arguments(MoversArgs, location="query")
@blp.response(200, Movers)
def movers(args: dict[str, Any]) -> dict[str, Any]:
    """Top gainers and losers by floor or market price, ignoring noise (both ends priced, an earlier
    floor of at least $5, a move of at least $1, at least 3 listings today): the gainers first (biggest
    rise first), then the losers (biggest fall first), each with its `direction` and `place`."""
    day = metrics_day(args.get("date"))
    rows = database().fetch_all(
        "api/movers", {"day": day, "metric": args["metric"], "days": int(args["period"][:-1]), "limit": args["limit"]}
    )
    movers = [{**row, "product": {key: row[key] for key in PRODUCT_FIELDS}} for row in rows]  # gainers first
    return whole_list(movers, day=day, metric=args["metric"], period=args["period"], per_direction=args["limit"])
