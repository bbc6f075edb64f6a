"""A product's data over time: history (daily, weekly, hourly; JSON or CSV), sales, listings, ranks."""

from __future__ import annotations

import csv
import functools
import io
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Response, current_app, request
from psycopg import sql

from service.api.blueprint import Blueprint
from service.api.caching import cached
from service.api.catalog.routes import find_product
from service.api.common import data_mode, envelope, latest_day, whole_list
from service.api.errors import ApiError
from service.api.product_data.schemas import (
    DAILY,
    FLOWS,
    HOURLY,
    History,
    HistoryArgs,
    ListingsArgs,
    ListingsPage,
    RankHistory,
    RankHistoryArgs,
    SalesArgs,
    SalesPage,
    SparklineArgs,
)  # fmt: skip
from service.core import metrics as catalogue
from service.core.sql import query, rendered
from service.extensions import database

blp = Blueprint("product_data", __name__, url_prefix="/api/v1/products", description="A product's data over time")

MAX_DAYS = {"1h": 31, "1d": 3 * 366, "1w": 3 * 366}


def _window(args: dict[str, Any], interval: str, default_days: int) -> tuple[date, date]:
    last = (
        args.get("to") or (datetime.now(UTC).date() if interval == "1h" else latest_day()) or datetime.now(UTC).date()
    )
    first = args.get("from_") or last - timedelta(days=default_days)
    if first > last or (last - first).days > MAX_DAYS[interval]:
        raise ApiError(
            422,
            "The request is not valid; see details.",
            details={"query": {"from": [f"must be on or before `to` and within {MAX_DAYS[interval]} days"]}},
        )
    return first, last


def _requested_metrics(raw: str, interval: str) -> list[str]:
    allowed = HOURLY if interval == "1h" else DAILY
    metrics = list(dict.fromkeys(m.strip() for m in raw.split(",") if m.strip()))
    unknown = [m for m in metrics if m not in allowed]
    if unknown or not metrics:
        raise ApiError(
            422,
            "The request is not valid; see details.",
            details={
                "query": {
                    "metrics": [
                        f"unknown for interval {interval}: {', '.join(unknown) or '(none given)'}",
                        f"allowed: {', '.join(allowed)}",
                    ]
                }
            },
        )
    return metrics


def _subquery(name: str) -> str:
    """A query file's text without its final semicolon, to nest it in another statement."""
    return query(name).strip().removesuffix(";")


@functools.lru_cache(maxsize=512)
def history_statement(interval: str, metrics: tuple[str, ...], *, as_json: bool) -> sql.SQL:
    """The history's SQL for an interval and metrics (checked against the catalogue): its rows, or
    (as_json) one JSON array of points built by the database, a single round of serialisation.
    Composed and rendered once per shape (the daily ones are prepared, planned once)."""
    if interval == "1h":
        statement: sql.SQL | sql.Composed = sql.SQL(_subquery("api/product_history_hourly"))
    else:
        weekly = interval == "1w"
        columns = sql.SQL(", ").join(
            sql.SQL("{value} AS {name}").format(
                value=sql.SQL(catalogue.BY_COLUMN[m].rounded("{}")).format(
                    (sql.SQL("sum(m.{})") if m in FLOWS else sql.SQL("last(m.{}, m.day)")).format(sql.Identifier(m))
                    if weekly
                    else sql.SQL("m.{}").format(sql.Identifier(m))
                ),
                name=sql.Identifier(m),
            )
            for m in metrics
        )
        statement = sql.SQL(_subquery("api/product_history_daily")).format(
            bucket=sql.SQL("time_bucket('1 week', m.day)" if weekly else "m.day"),
            columns=columns,
            group=sql.SQL("GROUP BY 1" if weekly else ""),
        )
    if as_json:
        fields = ("period", *metrics)
        statement = sql.SQL(query("api/as_json_array")).format(
            query=statement,
            fields=sql.SQL(", ").join(sql.SQL("{}, h.{}").format(sql.Literal(f), sql.Identifier(f)) for f in fields),
        )
    return rendered(statement)


def _csv(rows: list[dict[str, Any]], columns: list[str]) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["period", *columns])
    for row in rows:
        writer.writerow([row["period"], *("" if row[c] is None else row[c] for c in columns)])
    return Response(buffer.getvalue(), mimetype="text/csv")


@blp.route("/<string:product>/history")
@cached()
@blp.arguments(HistoryArgs, location="query")
@blp.response(200, History)
@blp.alt_response(
    200, description="The same as CSV when the client sends `Accept: text/csv`", content_type="text/csv", success=True
)
def product_history(args: dict[str, Any], product: str) -> Any:
    """Chosen metrics over [from, to] at 1h, 1d or 1w (weekly: levels and indicators at the week's last
    day, flows summed)."""
    found = find_product(product)
    interval = args["interval"]
    metrics = _requested_metrics(args["metrics"], interval)
    first, last = _window(args, interval, 7 if interval == "1h" else 90)
    params: dict[str, Any] = {"product_id": found["id"], "from": first, "to": last}
    if interval == "1h":
        params |= {
            "from": datetime.combine(first, datetime.min.time(), UTC),
            "to": datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC),
        }
    # Daily rows come from tables the pipeline writes: one generic plan suits every request. Hourly
    # ones come from the rollups, continuous aggregates on the licensed edition, whose real-time
    # part depends on the refresh watermark: planned for each request.
    prepared = interval != "1h"
    if request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv":
        with database().reading(prepared=prepared) as conn:
            rows = conn.execute(history_statement(interval, tuple(metrics), as_json=False), params).fetchall()
        response = _csv(rows, metrics)
        response.vary.add("Accept")  # one URL, two media types: a cache must key on Accept
        return response
    with database().reading(prepared=prepared) as conn:
        points = conn.execute(history_statement(interval, tuple(metrics), as_json=True), params).fetchone()
    assert points is not None
    meta = {"total": points["total"], "limit": points["total"], "offset": 0, "data_mode": data_mode()}
    meta |= {"product_id": found["id"], "interval": interval, "metrics": metrics}
    meta |= {"from": first.isoformat(), "to": last.isoformat()}
    response = current_app.response_class(
        f'{{"data": {points["data"]}, "meta": {json.dumps(meta)}}}', mimetype="application/json"
    )
    response.vary.add("Accept")  # one URL, two media types: a cache must key on Accept
    return response


@blp.route("/<string:product>/sales")
@blp.arguments(SalesArgs, location="query")
@blp.response(200, SalesPage)
def product_sales(args: dict[str, Any], product: str) -> dict[str, Any]:
    """A product's sales, newest first (reported by marketplaces or inferred from listing changes)."""
    found = find_product(product)
    first, last = _window(args, "1d", 30)
    rows = database().fetch_all(
        "api/product_sales",
        {
            "product_id": found["id"],
            "marketplace": args.get("marketplace"),
            "basis": args.get("basis"),
            "from": datetime.combine(first, datetime.min.time(), UTC),
            "to": datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC),
            "limit": args["limit"],
            "offset": args["offset"],
        },
    )
    return envelope(rows, total=rows[0]["total"] if rows else 0, limit=args["limit"], offset=args["offset"])


@blp.route("/<string:product>/listings")
@blp.arguments(ListingsArgs, location="query")
@blp.response(200, ListingsPage)
def product_listings(args: dict[str, Any], product: str) -> dict[str, Any]:
    """The listings of each marketplace's latest complete snapshot, cheapest landed price first."""
    found = find_product(product)
    rows = database().fetch_all(
        "api/product_listings",
        {
            "product_id": found["id"],
            "marketplace": args.get("marketplace"),
            "limit": args["limit"],
            "offset": args["offset"],
        },
    )
    return envelope(rows, total=rows[0]["total"] if rows else 0, limit=args["limit"], offset=args["offset"])


@blp.route("/<string:product>/rank-history")
@cached()
@blp.arguments(RankHistoryArgs, location="query")
@blp.response(200, RankHistory)
def product_rank_history(args: dict[str, Any], product: str) -> dict[str, Any]:
    """The product's daily rank in a scope ('all' or a game) over [from, to]."""
    found = find_product(product)
    first, last = _window(args, "1d", 90)
    rows = database().fetch_all(
        "api/product_rank_history", {"product_id": found["id"], "scope": args["scope"], "from": first, "to": last}
    )
    return whole_list(rows, product_id=found["id"], scope=args["scope"], from_=first, to=last)


def sparkline_svg(values: list[float | None], width: int, height: int) -> str:
    """A small line chart; a gap in the data is a gap in the line."""
    present = [v for v in values if v is not None]
    lines: list[list[str]] = [[]]
    if present:
        low, high = min(present), max(present)
        span = (high - low) or 1.0
        step = (width - 2) / max(len(values) - 1, 1)
        for i, value in enumerate(values):
            if value is None:
                lines.append([])
                continue
            y = 1 + (height - 2) * (1 - (value - low) / span)
            lines[-1].append(f"{1 + i * step:.1f},{y:.1f}")
    rising = len(present) < 2 or present[-1] >= present[0]
    colour = "#16a34a" if rising else "#dc2626"
    polylines = "".join(
        f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{" ".join(points)}"/>'
        for points in lines
        if len(points) > 1
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">{polylines}</svg>'
    )


@blp.route("/<string:product>/sparkline.svg")
@cached()
@blp.arguments(SparklineArgs, location="query")
@blp.response(200, description="An SVG image (image/svg+xml)")
def product_sparkline(args: dict[str, Any], product: str) -> Response:
    """A server-rendered sparkline of one metric over the last N days (cacheable)."""
    found = find_product(product)
    to = latest_day() or datetime.now(UTC).date()
    rows = database().fetch_all("api/sparkline", {"product_id": found["id"], "to": to, "days": args["days"]})
    values = [None if r[args["metric"]] is None else float(r[args["metric"]]) for r in rows]
    return Response(sparkline_svg(values, args["width"], args["height"]), mimetype="image/svg+xml")
