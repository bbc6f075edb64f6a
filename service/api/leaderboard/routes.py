"""GET /api/v1/leaderboard: boxes ranked by activity, or by any whitelisted metric."""

from __future__ import annotations

import functools
from typing import Any

from flask import Response, current_app
from psycopg import sql

from service.api.blueprint import Blueprint
from service.api.caching import cached
from service.api.common import data_mode, filter_conditions, filter_params, given_filters, metrics_day
from service.api.leaderboard.schemas import SORT_COLUMNS, LeaderboardArgs, LeaderboardPage
from service.core import metrics
from service.core.sql import query, rendered
from service.extensions import database

blp = Blueprint("leaderboard", __name__, url_prefix="/api/v1/leaderboard", description="Ranked boxes")


# The arguments of the metrics object's json_build_object: the catalogue's summary metrics, as
# 'name', "name" pairs over the view's columns. Composed once; PostgreSQL takes at most 100 arguments.
METRICS_OBJECT = rendered(
    sql.SQL(", ").join(
        sql.SQL("{}, {}").format(sql.Literal(name), sql.Identifier(name))
        for name in ("day", *(metric.name for metric in metrics.SUMMARY))
    )
)


def order_by(sort: str, direction: str | None) -> tuple[str, str]:
    """The ORDER BY of a page (table-qualified columns, from the whitelist), and the direction shown."""
    if sort == "volume_ema_7d" and direction in (None, "desc"):
        # The default ranking: the stored competition ranks, with their tie-breaks.
        return "r.rank ASC NULLS LAST, p.id", "desc"
    direction = direction or "desc"
    return f"{SORT_COLUMNS[sort]} {direction.upper()} NULLS LAST, p.id", direction


def _unqualified(order: str) -> str:
    """The same ORDER BY over the page's own column names (r.rank -> rank, m.volume_24h -> volume_24h)."""
    return ", ".join(term.split(".", 1)[1] for term in order.split(", "))


@functools.lru_cache(maxsize=256)
def leaderboard_statement(sort: str, direction: str | None, filters: tuple[str, ...]) -> tuple[sql.SQL, str]:
    """The page's SQL for a sort key, direction and the filters given, and the direction shown,
    rendered once per shape."""
    order, shown = order_by(sort, direction)
    statement = sql.SQL(query("api/leaderboard")).format(
        order=sql.SQL(order),
        page_order=sql.SQL(_unqualified(order)),
        metrics=METRICS_OBJECT,
        filters=filter_conditions(filters),
    )
    return rendered(statement), shown


@blp.route("")
@cached()
@blp.alt_response(404, description="No metrics have been computed yet")
@blp.arguments(LeaderboardArgs, location="query")
@blp.response(200, LeaderboardPage)
def leaderboard(args: dict[str, Any]) -> Response:
    """The leaderboard for a day: by default ranked on volume_ema_7d, ties broken by sold_avg_30d,
    days_to_plus_20pct and reprint risk (tied boxes share a rank); or ordered by any sort key."""
    params = {**filter_params(args), "day": args.get("date")}
    statement, direction = leaderboard_statement(args["sort"], args.get("direction"), given_filters(params))
    with database().reading(prepared=True) as conn:
        page = conn.execute(statement, params).fetchone()
    assert page is not None
    day = page["day"] or metrics_day(args.get("date"))  # no rows: still a day, or 404 before any metrics
    meta = {"total": page["total"] or 0, "limit": args["limit"], "offset": args["offset"], "data_mode": data_mode()}
    meta["day"] = day
    meta |= {"sort": args["sort"], "direction": direction}
    return current_app.response_class(
        f'{{"data": {page["data"]}, "meta": {current_app.json.dumps(meta)}}}', mimetype="application/json"
    )
