from __future__ import annotations

from marshmallow import Schema, fields, validate

from service.api.common import Meta, PageArgs
from service.api.schemas import MetricsSummary, ProductSummary, RankMovement

# Sort keys a client may ask for, and the SQL they mean: the request never reaches the SQL text.
SORT_COLUMNS = {
    "volume_ema_7d": "m.volume_ema_7d",
    "volume_24h": "m.volume_usd",
    "volume_7d": "m.volume_7d",
    "volume_30d": "m.volume_30d",
    "floor_price": "m.floor_price",
    "market_price": "m.market_price",
    "floor_change_pct_1d": "m.floor_change_pct_1d",
    "floor_change_pct_7d": "m.floor_change_pct_7d",
    "floor_change_pct_30d": "m.floor_change_pct_30d",
    "units_sold_7d": "m.units_sold_7d",
    "visible_market_cap": "m.visible_market_cap",
    "liquidity_score": "m.liquidity_score",
    "days_to_plus_20pct": "m.days_to_plus_20pct",
    "expected_days_to_sell": "m.expected_days_to_sell",
    "active_listings": "m.active_listings",
    "momentum": "m.momentum",
    "release_date": "p.release_date",
}


class ProductFilters(Schema):
    game = fields.String(validate=validate.Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$"), metadata={"example": "one-piece"})
    product_type = fields.String(validate=validate.Regexp(r"^[a-z_]+$"), metadata={"example": "booster_box"})
    release_year = fields.Integer(validate=validate.Range(1990, 2100))
    min_price = fields.Decimal(validate=validate.Range(0, 1_000_000), as_string=False)
    max_price = fields.Decimal(validate=validate.Range(0, 1_000_000), as_string=False)
    q = fields.String(validate=validate.Length(1, 100), metadata={"description": "Search name, slug or set code"})


class LeaderboardArgs(PageArgs, ProductFilters):
    sort = fields.String(load_default="volume_ema_7d", validate=validate.OneOf(sorted(SORT_COLUMNS)))
    direction = fields.String(
        load_default=None,
        validate=validate.OneOf(["asc", "desc"]),
        metadata={"description": "Default: desc (asc for the default ranking's rank order)"},
    )
    date = fields.Date(metadata={"description": "Day (UTC); default: the latest computed day"})


class LeaderboardRow(RankMovement):
    product = fields.Nested(ProductSummary, required=True)
    metrics = fields.Nested(MetricsSummary, required=True)


class LeaderboardMeta(Meta):
    day = fields.Date(required=True)
    sort = fields.String(required=True)
    direction = fields.String(required=True)


class LeaderboardPage(Schema):
    data = fields.List(fields.Nested(LeaderboardRow), required=True)
    meta = fields.Nested(LeaderboardMeta, required=True)
