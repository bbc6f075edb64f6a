from __future__ import annotations

from marshmallow import Schema, fields, validate

from service.api.common import Meta, PageArgs
from service.api.schemas import MetricsSummary, Pattern, ProductSummary, RankMovement, day, enum
from service.core import metrics

# Sort keys a client may ask for, and the SQL they mean: the request never reaches the SQL text. The
# metrics are the catalogue's sortable ones, columns of the view metric_rows m under the same names.
SORT_COLUMNS = {name: f"m.{name}" for name in metrics.SORTABLE} | {"release_date": "p.release_date"}
SORT_KEYS = sorted(SORT_COLUMNS)
DIRECTIONS = ("asc", "desc")


class ProductFilters(Schema):
    game = fields.String(validate=Pattern(r"^[a-z0-9]+(-[a-z0-9]+)*$"), metadata={"example": "one-piece"})
    product_type = fields.String(validate=Pattern(r"^[a-z_]+$"), metadata={"example": "booster_box"})
    release_year = fields.Integer(validate=validate.Range(1990, 2100))
    min_price = fields.Decimal(validate=validate.Range(0, 1_000_000), as_string=False)
    max_price = fields.Decimal(validate=validate.Range(0, 1_000_000), as_string=False)
    q = fields.String(validate=validate.Length(1, 100), metadata={"description": "Search name, slug or set code"})


class LeaderboardArgs(PageArgs, ProductFilters):
    sort = enum("LeaderboardSort", SORT_KEYS, load_default="volume_ema_7d")
    direction = enum(
        "Direction",
        DIRECTIONS,
        metadata={"description": "Default: desc (asc for the default ranking's rank order)"},
    )
    date = day(metadata={"description": "Day (UTC); default: the latest computed day"})


class LeaderboardRow(RankMovement):
    product = fields.Nested(ProductSummary, required=True)
    metrics = fields.Nested(MetricsSummary, required=True)


class LeaderboardMeta(Meta):
    day = fields.Date(required=True)
    sort = enum("LeaderboardSort", SORT_KEYS, required=True)
    direction = enum("Direction", DIRECTIONS, required=True)


class LeaderboardPage(Schema):
    data = fields.List(fields.Nested(LeaderboardRow), required=True)
    meta = fields.Nested(LeaderboardMeta, required=True)
