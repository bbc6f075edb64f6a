"""The signed-in user's portfolio: holdings, value, cost basis and unrealised P&L (computed in SQL)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from service.api.auth import tokens
from service.api.blueprint import Blueprint
from service.api.catalog.routes import find_product
from service.api.common import latest_day, whole_list
from service.api.errors import ApiError
from service.api.portfolio.schemas import (
    HistoryArgs,
    Holding,
    HoldingIn,
    HoldingPatch,
    Portfolio,
    PortfolioHistory,
)  # fmt: skip
from service.extensions import database

blp = Blueprint("portfolio", __name__, url_prefix="/api/v1/me/portfolio", description="The user's holdings")
ZERO = {"cost_basis": Decimal(0), "value": Decimal(0), "pnl_usd": Decimal(0), "pnl_pct": None}


def _holding(holding_id: int) -> dict[str, Any]:
    row = database().fetch_one("portfolio/holding", {"user_id": tokens.current_user_id(), "id": holding_id})
    if row is None:
        raise ApiError(404, f"No holding {holding_id} in your portfolio.")
    return row


@blp.route("")
@blp.login_required
@blp.response(200, Portfolio)
def portfolio() -> dict[str, Any]:
    """Holdings valued at the latest floor (else market price), newest first; the totals, overall and
    per game, are in `meta`."""
    user = {"user_id": tokens.current_user_id()}
    totals = database().fetch_all("portfolio/totals", user)
    overall = next((t for t in totals if t["game"] is None), ZERO)
    by_game = {t["game"]: t for t in totals if t["game"] is not None}
    return whole_list(database().fetch_all("portfolio/holdings", user), totals=overall, by_game=by_game)


@blp.route("", methods=["POST"])
@blp.alt_response(404, description="No such product")
@blp.login_required
@blp.arguments(HoldingIn)
@blp.response(201, Holding)
def add_holding(body: dict[str, Any]) -> dict[str, Any]:
    """Record a holding: product, quantity, unit cost, acquired date, notes."""
    product = find_product(body["product"])
    row = database().fetch_one(
        "portfolio/add",
        {
            "user_id": tokens.current_user_id(),
            "product_id": product["id"],
            "quantity": body["quantity"],
            "unit_cost": body["unit_cost"],
            "acquired_on": body.get("acquired_on"),
            "notes": body.get("notes"),
        },
    )
    assert row is not None
    return _holding(row["id"])


@blp.route("/<int:holding_id>", methods=["PATCH"])
@blp.login_required
@blp.arguments(HoldingPatch)
@blp.response(200, Holding)
@blp.alt_response(404, description="No such holding in your portfolio")
def update_holding(body: dict[str, Any], holding_id: int) -> dict[str, Any]:
    """Change a holding's quantity, unit cost, acquired date or notes."""
    row = database().fetch_one(
        "portfolio/update",
        {
            "id": holding_id,
            "user_id": tokens.current_user_id(),
            "quantity": body.get("quantity"),
            "unit_cost": body.get("unit_cost"),
            "acquired_on": body.get("acquired_on"),
            "notes_given": "notes" in body,
            "notes": body.get("notes"),
        },
    )
    if row is None:
        raise ApiError(404, f"No holding {holding_id} in your portfolio.")
    return _holding(holding_id)


@blp.route("/<int:holding_id>", methods=["DELETE"])
@blp.login_required
@blp.response(204)
@blp.alt_response(404, description="No such holding in your portfolio")
def delete_holding(holding_id: int) -> None:
    """Remove a holding."""
    if database().fetch_one("portfolio/delete", {"id": holding_id, "user_id": tokens.current_user_id()}) is None:
        raise ApiError(404, f"No holding {holding_id} in your portfolio.")


@blp.route("/history")
@blp.login_required
@blp.arguments(HistoryArgs, location="query")
@blp.response(200, PortfolioHistory)
def portfolio_history(args: dict[str, Any]) -> dict[str, Any]:
    """Value and cost basis per day over [from, to] (at most three years)."""
    last = args.get("to") or latest_day()
    if last is None:
        return whole_list([], from_=args.get("from_"), to=None)
    first = args.get("from_") or last - timedelta(days=90)
    if first > last or (last - first).days > 3 * 366:
        raise ApiError(
            422,
            "The request is not valid; see details.",
            details={"query": {"from": ["must be on or before `to`, at most three years before"]}},
        )
    rows = database().fetch_all("portfolio/history", {"user_id": tokens.current_user_id(), "from": first, "to": last})
    return whole_list(rows, from_=first, to=last)
