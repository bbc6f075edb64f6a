"""The public metrics are listed once (service/core/metrics.py); schemas, sort keys, history, the view
metric_rows and the leaderboard's SQL-built JSON derive from that list, and the database agrees with it."""

from __future__ import annotations

import re
from datetime import date

import psycopg
import pytest
from marshmallow import fields

from service.api.leaderboard.routes import METRICS_OBJECT
from service.api.leaderboard.schemas import SORT_COLUMNS
from service.api.product_data.schemas import DAILY, FLOWS, HOURLY
from service.api.schemas import MetricsSummary
from service.core import metrics, migrations

SUMMARY_NAMES = [metric.name for metric in metrics.SUMMARY]
FIELD_OF_KIND = {
    "money": fields.Decimal,
    "number": fields.Float,
    "percent": fields.Float,
    "integer": fields.Integer,
    "flag": fields.Boolean,
    "label": fields.String,
}
PG_TYPE_OF_KIND = {
    "money": "numeric",
    "number": "double precision",
    "percent": "double precision",
    "integer": "integer",
    "flag": "boolean",
    "label": "text",
}
# Columns of product_metrics_daily that are not public metrics: the key, running totals the pipeline
# resumes from, and metrics it stores without the API serving them.
NOT_SERVED = {
    "product_id", "day", "history_days", "computed_at", "cum_volume_usd", "cum_units_sold", "cum_units_added",
    "cum_floor_sum", "cum_floor_days", "avg_sale_price", "median_sale_price",
}  # fmt: skip


def test_names_are_unique_and_plain_identifiers():
    names = [metric.name for metric in metrics.METRICS]
    assert len(names) == len(set(names)) and len(metrics.STORED) == len(set(metrics.STORED))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", n) for n in names + list(metrics.STORED))


def test_the_metrics_object_is_the_catalogues_summary():
    schema = MetricsSummary()
    assert list(schema.fields) == ["day", *SUMMARY_NAMES]
    for metric in metrics.SUMMARY:
        field = schema.fields[metric.name]
        assert type(field) is FIELD_OF_KIND[metric.kind], metric.name
        assert field.metadata["description"] == metric.description


def test_the_leaderboard_builds_the_same_metrics_object_in_sql():
    pairs = re.findall(r"'(\w+)', \"(\w+)\"", METRICS_OBJECT.as_string())
    assert [key for key, _ in pairs] == ["day", *SUMMARY_NAMES]
    assert all(key == column for key, column in pairs)
    assert 2 * len(pairs) <= 100  # json_build_object takes at most 100 arguments


def test_the_sort_keys_are_the_catalogues_sortable_metrics():
    # SPEC §5's sort keys (at least: a new metric may be sortable too).
    assert set(SORT_COLUMNS) >= {
        "volume_ema_7d", "volume_24h", "volume_7d", "volume_30d", "floor_price", "market_price",
        "floor_change_pct_1d", "floor_change_pct_7d", "floor_change_pct_30d", "units_sold_7d", "visible_market_cap",
        "liquidity_score", "days_to_plus_20pct", "expected_days_to_sell", "active_listings", "momentum",
        "release_date",
    }  # fmt: skip
    assert set(SORT_COLUMNS) - {"release_date"} == set(metrics.SORTABLE)
    # The leaderboard sorts the view, which holds the summary metrics only.
    assert all(metrics.BY_NAME[name].summary for name in metrics.SORTABLE)
    assert all(SORT_COLUMNS[name] == f"m.{name}" for name in metrics.SORTABLE)


def test_history_charts_every_stored_number_by_its_column_name():
    numbers = tuple(m.column for m in metrics.METRICS if m.kind not in ("flag", "label"))
    assert numbers == DAILY
    assert {"volume_usd", "volume_24h"} <= set(DAILY)  # the UTC day's volume and the last 24 hours' apart
    assert set(FLOWS) >= {"units_sold", "sales_count", "volume_usd", "units_added"}  # SPEC §4's flows
    assert set(HOURLY) <= set(DAILY)


def columns_of(conn: psycopg.Connection, relation: str) -> dict[str, str]:
    rows = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
        [relation],
    ).fetchall()
    return {row["column_name"]: row["data_type"] for row in rows}


def test_every_column_of_the_table_is_catalogued_or_known_not_to_be_served(db):
    table = columns_of(db, "product_metrics_daily")
    assert set(table) - NOT_SERVED == set(metrics.STORED)
    for metric in metrics.METRICS:
        if metric.column:
            assert table[metric.column] == PG_TYPE_OF_KIND[metric.kind], metric.name


def test_the_view_serves_the_catalogues_summary_under_its_names(db):
    view = columns_of(db, "metric_rows")
    assert list(view)[:2] == ["product_id", "day"]
    assert set(view) - {"product_id", "day"} == set(SUMMARY_NAMES)
    for metric in metrics.SUMMARY:
        # Numbers are served rounded to their places (numeric); the rest as stored.
        served = "numeric" if metric.places is not None else PG_TYPE_OF_KIND[metric.kind]
        assert view[metric.name] == served, metric.name


def test_a_change_to_the_catalogue_reapplies_the_view(scratch_db_url, project_root, monkeypatch):
    migrations.upgrade(scratch_db_url, project_root / "migrations", project_root / "sql", progress=lambda _: None)
    added = metrics.Metric("units_added_today", "integer", "test", column="units_added", summary=True)
    monkeypatch.setattr(metrics, "SUMMARY", (*metrics.SUMMARY, added))
    report = migrations.upgrade(
        scratch_db_url, project_root / "migrations", project_root / "sql", progress=lambda _: None
    )
    assert report.repeatables == ["views/metric_rows.sql"]
    with psycopg.connect(scratch_db_url, row_factory=psycopg.rows.dict_row) as conn:
        assert columns_of(conn, "metric_rows")["units_added_today"] == "integer"


@pytest.mark.parametrize(
    ("score", "label"),
    [(None, None), (0, "Low"), (39.99, "Low"), (40, "Moderate"), (69.99, "Moderate"), (70, "High"), (100, "High")],
)
def test_the_liquidity_label_is_spec_s(db, score, label):
    assert db.execute("SELECT liquidity_label(%s::double precision) AS l", [score]).fetchone()["l"] == label


@pytest.mark.parametrize(
    ("now", "before", "movement"),
    [(None, None, None), (None, 3, None), (3, None, "new"), (2, 3, "up"), (4, 3, "down"), (3, 3, "same")],
)
def test_rank_movement(db, now, before, movement):
    assert db.execute("SELECT rank_movement(%s::int, %s::int) AS m", [now, before]).fetchone()["m"] == movement


def test_the_api_shows_the_views_row_in_the_catalogues_order(client, db, products):
    """The leaderboard (JSON built in SQL), the watchlist and product detail (marshmallow) all show a
    product's day as the view has it, labels included."""
    db.execute(
        """INSERT INTO product_metrics_daily (day, product_id, history_days, floor_price, units_sold, sales_count,
                  volume_usd, volume_24h, units_added, liquidity_score, insufficient_history, low_liquidity, stale)
           VALUES (%s, %s, 9, 101.50, 2, 2, 203.00, 203.00, 1, 55, false, true, false)""",
        [date(2026, 3, 1), products[0]],
    )
    board = client.get("/api/v1/leaderboard").get_json()["data"]
    detail = client.get(f"/api/v1/products/{products[0]}").get_json()["metrics"]
    assert list(board[0]["metrics"]) == list(detail) == ["day", *SUMMARY_NAMES]
    assert board[0]["metrics"] == detail
    assert (detail["volume_24h"], detail["liquidity_label"], board[0]["change_1d"]) == (203.0, "Moderate", None)
