"""GET /api/v1/leaderboard: boxes ranked by activity, or by any whitelisted metric."""

from __future__ import annotations

from typing import Any

from flask import Response
from psycopg import sql

from service.api import Blueprint
from service.api.caching import cached
from service.api.common import envelope, filter_params, json_response, metrics_day
from service.api.leaderboard.schemas import SORT_COLUMNS, LeaderboardArgs, LeaderboardPage
from service.api.schemas import liquidity_label, rank_movement
from service.extensions import database
from service.sql import query

blp = Blueprint("leaderboard", __name__, url_prefix="/api/v1/leaderboard", description="Ranked boxes")

PRODUCT_FIELDS = ("id", "slug", "name", "game", "set_code", "set_name", "product_type", "release_date",
                  "image_url", "reprint_risk")  # fmt: skip
RANK_FIELDS = ("rank", "rank_1d_ago", "rank_7d_ago")


def split_row(row: dict[str, Any]) -> dict[str, Any]:
    """A flat SQL row as {rank..., product: {...}, metrics: {...}}."""
    product = {key: row[key] for key in PRODUCT_FIELDS}
    ranks = {key: row.get(key) for key in RANK_FIELDS}
    metrics = {k: v for k, v in row.items() if k not in PRODUCT_FIELDS and k not in RANK_FIELDS and k != "total"}
    return {**ranks, "product": product, "metrics": metrics}


def leaderboard_row(row: dict[str, Any]) -> dict[str, Any]:
    """split_row plus what LeaderboardRow computes: rank movements and the liquidity label."""
    shaped = split_row(row)
    shaped["change_1d"] = rank_movement(row["rank"], row["rank_1d_ago"])
    shaped["change_7d"] = rank_movement(row["rank"], row["rank_7d_ago"])
    shaped["metrics"]["liquidity_label"] = liquidity_label(row["liquidity_score"])
    return shaped


def order_by(sort: str, direction: str | None) -> tuple[sql.Composable, str]:
    if sort == "volume_ema_7d" and direction in (None, "desc"):
        # The default ranking: the stored competition ranks, with their tie-breaks.
        return sql.SQL("r.rank ASC NULLS LAST, p.id"), "desc"
    direction = direction or "desc"
    column = sql.SQL(SORT_COLUMNS[sort])
    return sql.SQL("{} {} NULLS LAST, p.id").format(column, sql.SQL(direction.upper())), direction


@blp.route("")
@cached()
@blp.arguments(LeaderboardArgs, location="query")
@blp.response(200, LeaderboardPage)
def leaderboard(args: dict[str, Any]) -> Response:
    """The leaderboard for a day: default order volume_ema_7d with SPEC's tie-breaks (competition ranks)."""
    params = {**filter_params(args), "day": args.get("date")}
    order, direction = order_by(args["sort"], args.get("direction"))
    statement = sql.SQL(query("api/leaderboard")).format(order=order)
    with database().connection() as conn:
        rows = conn.execute(statement, params).fetchall()
    total = rows[0]["total"] if rows else 0
    day = rows[0]["day"] if rows else metrics_day(args.get("date"))  # 404 when nothing is computed yet
    return json_response(
        envelope(
            [leaderboard_row(r) for r in rows],
            total=total,
            limit=args["limit"],
            offset=args["offset"],
            day=day,
            sort=args["sort"],
            direction=direction,
        )
    )
