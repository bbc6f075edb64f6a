"""The public metrics: every column of product_metrics_daily that the API serves, listed once.

Derived from this list, and written nowhere else:
- the view `metric_rows` (sql/views/metric_rows.sql; its column list is filled in from here when it is
  applied, service/core/migrations.py): a product's day as the API shows it, read by the leaderboard,
  the watchlist, product detail, catalog search and price check;
- the metrics object of those responses, its marshmallow fields and the leaderboard's SQL-built JSON
  (service/api/schemas.py, service/api/leaderboard);
- the leaderboard's sort keys, and the metrics a history may chart (service/api/product_data).

Formulas live in sql/functions/metrics.sql (SPEC §4) and labels in SQL (the view), never here.

Adding a metric touches four files: a migration adding the column, its formula in
sql/functions/metrics.sql, an entry below, and its independent formula in tests/reference.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# money: numeric USD; number and percent: double precision; integer; flag: boolean; label: text
# computed by the view from other metrics (SQL functions in sql/functions/api.sql).
Kind = Literal["money", "number", "percent", "integer", "flag", "label"]
NUMERIC_KINDS = ("money", "number", "percent", "integer")


@dataclass(frozen=True)
class Metric:
    name: str  # in the API's metrics objects, leaderboard sort keys and the view
    kind: Kind
    description: str
    column: str = ""  # in product_metrics_daily (and history), when not named as in the API; labels have none
    summary: bool = False  # in the metrics object of leaderboard, watchlist and product detail rows
    sortable: bool = False  # a leaderboard sort key (a summary metric: the leaderboard sorts the view)
    flow: bool = False  # a flow: a weekly history sums it (levels and indicators take the week's last day)
    values: tuple[str, ...] = ()  # a label's possible values (the view writes them), in the API's enum
    label_enum: str = ""  # a label's enum name in the API (LiquidityLabel)
    places: int | None = None  # decimal places the API shows (default by kind: 2; ratios ask for more)

    def __post_init__(self) -> None:
        if not self.column and self.kind != "label":
            object.__setattr__(self, "column", self.name)
        if self.places is None and self.kind in ("money", "number", "percent"):
            object.__setattr__(self, "places", 2)

    def rounded(self, expression: str) -> str:
        """`expression` (SQL, this metric's value) as the API shows it: money in cents, other numbers at
        `places` decimals, so clients get 1136.4 and not 1136.4044746911402. Rounded in the database,
        where the JSON is built."""
        return expression if self.places is None else f"round(({expression})::numeric, {self.places})"


def _change(level: str, days: int, *, summary: bool = False, sortable: bool = False) -> Metric:
    return Metric(
        f"{level}_change_pct_{days}d",
        "percent",
        f"Change of the {level} price over {days} day{'s' if days > 1 else ''}: (now - then) / then x 100; "
        "null if either end is null",
        summary=summary,
        sortable=sortable,
    )


# In the order of the metrics object (the leaderboard's JSON keeps it), then the history-only ones.
METRICS: tuple[Metric, ...] = (
    Metric(
        "floor_price",
        "money",
        "Lowest landed price (unit + shipping) across marketplaces, from each one's last complete snapshot "
        "(carried forward at most max_carry_days)",
        summary=True,
        sortable=True,
    ),
    Metric(
        "market_price",
        "money",
        "The last TCGplayer market price of the day or the max_carry_days before, else the median unit sale "
        "price of the last 7 days",
        summary=True,
        sortable=True,
    ),
    Metric(
        "volume_24h",
        "money",
        "Sales volume of the last 24 hours in USD (unit price x quantity): on the latest day, the 24 hours up "
        "to the end of the hour of the latest observation; on earlier days, the UTC day (volume_usd)",
        summary=True,
        sortable=True,
    ),
    Metric("volume_7d", "money", "Sales volume of the trailing 7 days", summary=True, sortable=True),
    Metric("volume_30d", "money", "Sales volume of the trailing 30 days", summary=True, sortable=True),
    Metric(
        "volume_ema_7d",
        "number",
        "7-day EMA of the daily volume (alpha = 2/8, seeded with the first day); the default ranking",
        summary=True,
        sortable=True,
    ),
    Metric("units_sold", "integer", "Units sold in the day", summary=True, flow=True),
    Metric("units_sold_7d", "integer", "Units sold in the trailing 7 days", summary=True, sortable=True),
    Metric("units_sold_30d", "integer", "Units sold in the trailing 30 days", summary=True),
    _change("floor", 1, summary=True, sortable=True),
    _change("floor", 7, summary=True, sortable=True),
    _change("floor", 30, summary=True, sortable=True),
    Metric(
        "visible_market_cap",
        "money",
        "Unit price x quantity of every listing in the marketplaces' last complete snapshots",
        summary=True,
        sortable=True,
    ),
    Metric(
        "liquidity_score",
        "number",
        "100 x min(1, 7 x sold_avg_30d / max(units_listed, 1)): the share of today's supply that sells in a week",
        summary=True,
        sortable=True,
    ),
    Metric(
        "liquidity_label",
        "label",
        "High (liquidity_score >= 70), Moderate (>= 40) or Low",
        summary=True,
        values=("High", "Moderate", "Low"),
        label_enum="LiquidityLabel",
    ),
    Metric(
        "days_to_plus_20pct",
        "number",
        "units_near_floor / (sold_avg_30d - added_avg_30d): days until the units near the floor are gone; "
        "null when supply is not shrinking, capped at 180",
        summary=True,
        sortable=True,
    ),
    Metric(
        "expected_days_to_sell",
        "number",
        "units_near_floor / sold_avg_30d, clamped to [1, 365]; null when sold_avg_30d <= 0.05",
        summary=True,
        sortable=True,
    ),
    Metric(
        "active_listings",
        "integer",
        "Listings in the marketplaces' last complete snapshots",
        summary=True,
        sortable=True,
    ),
    Metric("units_listed", "integer", "Units in those listings", summary=True),
    Metric(
        "momentum",
        "number",
        "(units_sold_sma_7d - sold_avg_30d) / sold_avg_30d, clamped to [-1, 1]",
        places=3,
        summary=True,
        sortable=True,
    ),
    Metric(
        "sold_avg_30d",
        "number",
        "Mean units sold a day over the trailing 30 days (from the first day on); null before 7 days of history",
        summary=True,
    ),
    Metric("insufficient_history", "flag", "Fewer than 7 days of history", summary=True),
    Metric("low_liquidity", "flag", "Fewer than 3 active listings", summary=True),
    Metric("stale", "flag", "No complete snapshot in the 48 hours before the end of the day", summary=True),
    # History only.
    Metric(
        "volume_usd",
        "money",
        "Sales volume of the UTC day in USD (unit price x quantity): the flow the volume indicators sum",
        flow=True,
    ),
    Metric("floor_low", "money", "The lowest floor seen during the day"),
    Metric("units_near_floor", "integer", "Units priced (landed) within near_floor_band (20 %) of the floor"),
    Metric("sales_count", "integer", "Sales in the day", flow=True),
    Metric("units_added", "integer", "Supply added in the day: listed units - relisted + quantity rises", flow=True),
    Metric("volume_ema_30d", "number", "30-day EMA of the daily volume"),
    Metric("units_sold_ema_7d", "number", "7-day EMA of the daily units sold"),
    Metric("volume_sma_7d", "number", "Mean daily volume of the trailing 7 days; null before 7 days of history"),
    Metric("volume_sma_30d", "number", "Mean daily volume of the trailing 30 days; null before 30 days of history"),
    Metric("units_sold_sma_7d", "number", "Mean units sold a day, trailing 7 days; null before 7 days of history"),
    Metric("units_sold_sma_30d", "number", "Mean units sold a day, trailing 30 days; null before 30 days of history"),
    Metric("units_added_sma_7d", "number", "Mean units added a day, trailing 7 days; null before 7 days of history"),
    Metric("units_added_sma_30d", "number", "Mean units added a day, trailing 30 days; null before 30 days"),
    Metric("floor_sma_7d", "number", "Mean of the non-null floors of the trailing 7 days"),
    _change("market", 1),
    _change("market", 7),
    _change("market", 30),
    Metric("volume_change_pct_7d", "percent", "Volume of the last 7 days against the 7 before, in percent"),
    Metric("volume_change_pct_30d", "percent", "Volume of the last 30 days against the 30 before, in percent"),
    Metric("added_avg_30d", "number", "Mean units added a day over the trailing 30 days; null before 7 days"),
    Metric("absorption_ratio", "number", "units_sold_sma_7d / units_added_sma_7d", places=3),
)

BY_NAME = {metric.name: metric for metric in METRICS}
BY_COLUMN = {metric.column: metric for metric in METRICS if metric.column}
STORED = tuple(metric.column for metric in METRICS if metric.column)  # columns of product_metrics_daily
SUMMARY = tuple(metric for metric in METRICS if metric.summary)
SORTABLE = tuple(metric.name for metric in METRICS if metric.sortable)
# History charts numbers by their column names (volume_usd, not volume_24h).
CHARTED = tuple(metric.column for metric in METRICS if metric.kind in NUMERIC_KINDS)
FLOWS = tuple(metric.column for metric in METRICS if metric.flow)


def view_columns() -> str:
    """The stored summary metrics as the SELECT list of the view metric_rows (over product_metrics_daily m),
    under their API names, rounded as the API shows them. Labels are written in the view itself: they
    are SQL (computed from the unrounded columns)."""
    return ",\n       ".join(
        f"{metric.rounded(f'm.{metric.column}')} AS {metric.name}" for metric in SUMMARY if metric.column
    )
