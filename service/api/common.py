"""Pieces shared by the API resources: paging arguments, the list envelope, the metrics day."""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from flask import current_app
from marshmallow import Schema, fields, validate
from psycopg import sql

from service.api.errors import ApiError
from service.api.schemas import enum
from service.extensions import database

MAX_LIMIT = 200


class PageArgs(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_LIMIT))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 1_000_000))


DATA_MODE = enum(
    "DataMode",
    ("demo", "live"),
    required=True,
    metadata={"description": "`demo`: the numbers come from the simulated market (show a banner); `live`: real"},
)


class Meta(Schema):
    total = fields.Integer(required=True, metadata={"example": 213})
    limit = fields.Integer(required=True, metadata={"example": 50})
    offset = fields.Integer(required=True, metadata={"example": 0})
    data_mode = DATA_MODE


def data_mode() -> str:
    """What the deployment serves: demo (the simulated market) or live data (DATA_MODE)."""
    mode: str = current_app.config["SETTINGS"].data_mode
    return mode


def envelope(rows: list[dict[str, Any]], *, total: int, limit: int, offset: int, **meta: Any) -> dict[str, Any]:
    return {"data": rows, "meta": {"total": total, "limit": limit, "offset": offset, "data_mode": data_mode(), **meta}}


def whole_list(rows: list[dict[str, Any]], **meta: Any) -> dict[str, Any]:
    """An unpaged list (a history, a portfolio) in the same envelope: every row, so total and limit
    are the row count and offset is 0; `meta` adds what the list is of."""
    return envelope(rows, total=len(rows), limit=len(rows), offset=0, **meta)


def latest_day() -> date | None:
    row = database().fetch_one("api/latest_day")
    return row["day"] if row else None


def metrics_day(requested: date | None) -> date:
    """The requested day, or the latest day with metrics. 404 when there is none."""
    day = requested or latest_day()
    if day is None:
        raise ApiError(404, "No metrics have been computed yet.")
    return day


def like_pattern(text: str) -> str:
    """A user's search text as an ILIKE pattern, its own wildcards escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# The product filters (ProductFilters): each one's condition over products `p` and metric_rows `m`.
# A statement holds only the filters its request gives (product_filters), rather than every filter
# behind an `IS NULL OR`: its plan is then good for any values, so it can be prepared and planned
# once (service/core/db.py), and planning per request has less to simplify.
FILTERS = {
    "game": "p.game = %(game)s",
    "product_type": "p.product_type = %(product_type)s",
    "release_year": "extract(year FROM p.release_date) = %(release_year)s",
    "min_price": "m.floor_price >= %(min_price)s",
    "max_price": "m.floor_price <= %(max_price)s",
    "q": "(p.name ILIKE %(q)s OR p.slug ILIKE %(q)s OR p.set_code ILIKE %(q)s)",
}


def filter_params(args: dict[str, Any]) -> dict[str, Any]:
    """Bound parameters of the product filters (ProductFilters) and paging, as the SQL expects them.
    A price range that is upside down is refused rather than silently returning nothing."""
    low, high = args.get("min_price"), args.get("max_price")
    if low is not None and high is not None and low > high:
        raise ApiError(
            422,
            "The request is not valid; see details.",
            details={"query": {"min_price": ["must not exceed max_price"]}},
        )
    return {
        "game": args.get("game"),
        "product_type": args.get("product_type"),
        "release_year": args.get("release_year"),
        "min_price": low,
        "max_price": high,
        "q": like_pattern(args["q"]) if args.get("q") else None,
        "limit": args["limit"],
        "offset": args["offset"],
    }


def given_filters(params: dict[str, Any]) -> tuple[str, ...]:
    """The names of the filters a request gives (its filter_params), in FILTERS' order."""
    return tuple(name for name in FILTERS if params[name] is not None)


@functools.lru_cache(maxsize=64)
def filter_conditions(given: tuple[str, ...]) -> sql.Composed:
    """`AND <condition>` for each given filter: fixed SQL from FILTERS, chosen by name."""
    return sql.SQL("").join(sql.SQL(f"\n  AND {FILTERS[name]}") for name in given)


PRODUCT_FIELDS = ("id", "slug", "name", "game", "set_code", "set_name", "product_type", "release_date",
                  "image_url", "reprint_risk")  # fmt: skip
RANK_FIELDS = ("rank", "rank_1d_ago", "rank_7d_ago", "change_1d", "change_7d")


def split_row(row: dict[str, Any]) -> dict[str, Any]:
    """A flat SQL row as {rank..., product: {...}, metrics: {...}}."""
    product = {key: row[key] for key in PRODUCT_FIELDS}
    ranks = {key: row.get(key) for key in RANK_FIELDS}
    metrics = {k: v for k, v in row.items() if k not in PRODUCT_FIELDS and k not in RANK_FIELDS and k != "total"}
    return {**ranks, "product": product, "metrics": metrics}
