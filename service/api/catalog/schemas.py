from __future__ import annotations

from marshmallow import Schema, fields

from service.api.common import Meta, PageArgs
from service.api.leaderboard.schemas import ProductFilters
from service.api.schemas import MetricsSummary, Pattern, ProductSummary, day, metric_field


class Game(Schema):
    code = fields.String(required=True, metadata={"example": "one-piece"})
    name = fields.String(required=True, metadata={"example": "One Piece Card Game"})
    products = fields.Integer(required=True, metadata={"description": "Active products", "example": 41})


class GameList(Schema):
    data = fields.List(fields.Nested(Game), required=True)
    meta = fields.Nested(Meta, required=True)


class ProductListArgs(PageArgs, ProductFilters):
    date = day(metadata={"description": "Day of the prices shown (UTC); default: the latest"})


class ProductListItem(ProductSummary):
    floor_price = metric_field("floor_price")
    market_price = metric_field("market_price")
    volume_24h = metric_field("volume_24h")
    floor_change_pct_1d = metric_field("floor_change_pct_1d")


class ProductList(Schema):
    data = fields.List(fields.Nested(ProductListItem), required=True)
    meta = fields.Nested(Meta, required=True)


class ProductArgs(Schema):
    date = day(metadata={"description": "Day (UTC); default: the latest computed day"})


class Product(ProductSummary):
    language = fields.String()
    msrp_usd = fields.Decimal(as_string=False, allow_none=True)
    packs_per_box = fields.Integer(allow_none=True)
    estimated_total_supply = fields.Integer(allow_none=True)
    notes = fields.String(allow_none=True)
    active = fields.Boolean()


class Rank(Schema):
    scope = fields.String(required=True, metadata={"description": "'all' or a game code"})
    rank = fields.Integer(required=True)
    rank_1d_ago = fields.Integer(allow_none=True)
    rank_7d_ago = fields.Integer(allow_none=True)


class MarketplaceBreakdown(Schema):
    marketplace = fields.String(required=True)
    marketplace_name = fields.String(required=True)
    day = fields.Date(required=True, metadata={"description": "Day of the levels (carried up to 3 days)"})
    floor_price = fields.Decimal(as_string=False, allow_none=True)
    floor_low = fields.Decimal(as_string=False, allow_none=True)
    active_listings = fields.Integer(allow_none=True)
    units_listed = fields.Integer(allow_none=True)
    units_near_floor = fields.Integer(allow_none=True)
    visible_market_cap = fields.Decimal(as_string=False, allow_none=True)
    last_snapshot_at = fields.DateTime(allow_none=True)
    units_sold = fields.Integer()
    sales_count = fields.Integer()
    volume_usd = fields.Decimal(as_string=False)
    market_price = fields.Decimal(as_string=False, allow_none=True)


class ProductDetail(Schema):
    product = fields.Nested(Product, required=True)
    metrics = fields.Nested(MetricsSummary, allow_none=True, metadata={"description": "null before any metrics"})
    ranks = fields.List(fields.Nested(Rank), required=True)
    marketplaces = fields.List(fields.Nested(MarketplaceBreakdown), required=True)


PRODUCT_REF = Pattern(r"^(\d{1,9}|[a-z0-9]+(-[a-z0-9]+)*)$")
