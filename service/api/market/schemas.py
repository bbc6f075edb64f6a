from __future__ import annotations

from marshmallow import Schema, fields, validate

from service.api.common import Meta
from service.api.schemas import PERIODS, Pattern, ProductSummary, day, enum

SCOPE = Pattern(r"^(all|[a-z0-9]+(-[a-z0-9]+)*)$")
SENTIMENTS = ("BULLISH", "BEARISH", "NEUTRAL")
FEAR_GREED = {"Extreme Fear": "EXTREME_FEAR", "Fear": "FEAR", "Neutral": "NEUTRAL", "Greed": "GREED",
              "Extreme Greed": "EXTREME_GREED"}  # fmt: skip
MOVER_METRICS = ("floor", "market")


def sentiment() -> fields.String:
    return enum("Sentiment", SENTIMENTS, metadata={"description": "BULLISH, BEARISH or NEUTRAL"})


def fear_greed_label() -> fields.String:
    return enum("FearGreedLabel", FEAR_GREED, names=FEAR_GREED.values())


class IndexArgs(Schema):
    scope = fields.String(load_default="all", validate=SCOPE, metadata={"description": "'all' or a game code"})
    date = day(metadata={"description": "Day (UTC); default: the latest computed day"})


class IndexHistoryArgs(Schema):
    scope = fields.String(load_default="all", validate=SCOPE)
    from_ = day(data_key="from", metadata={"description": "First day; default: 90 days before `to`"})
    to = day(metadata={"description": "Last day; default: the latest computed day"})


class MarketIndex(Schema):
    day = fields.Date(required=True)
    scope = fields.String(required=True)
    products_priced = fields.Integer()
    basket_value_usd = fields.Decimal(as_string=False, allow_none=True)
    index_value = fields.Float()
    index_change_pct_1d = fields.Float(allow_none=True)
    index_change_pct_7d = fields.Float(allow_none=True)
    index_change_pct_30d = fields.Float(allow_none=True)
    advancers = fields.Integer()
    decliners = fields.Integer()
    unchanged = fields.Integer()
    volume_usd = fields.Decimal(as_string=False)
    units_sold = fields.Integer()
    active_listings = fields.Integer()
    units_added = fields.Integer()
    volume_change_pct_7d = fields.Float(allow_none=True)
    top_gainer_id = fields.Integer(allow_none=True)
    top_gainer_slug = fields.String(allow_none=True)
    top_gainer_name = fields.String(allow_none=True)
    top_gainer_pct = fields.Float(allow_none=True)
    top_loser_id = fields.Integer(allow_none=True)
    top_loser_slug = fields.String(allow_none=True)
    top_loser_name = fields.String(allow_none=True)
    top_loser_pct = fields.Float(allow_none=True)
    sentiment = sentiment()
    fear_greed = fields.Float()
    fear_greed_label = fear_greed_label()


class IndexPoint(Schema):
    day = fields.Date(required=True)
    index_value = fields.Float()
    basket_value_usd = fields.Decimal(as_string=False, allow_none=True)
    index_change_pct_1d = fields.Float(allow_none=True)
    volume_usd = fields.Decimal(as_string=False)
    units_sold = fields.Integer()
    sentiment = sentiment()
    fear_greed = fields.Float()
    fear_greed_label = fear_greed_label()


class IndexHistoryMeta(Meta):
    scope = fields.String(required=True, metadata={"description": "'all' or a game code"})
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)


class IndexHistory(Schema):
    data = fields.List(fields.Nested(IndexPoint), required=True)
    meta = fields.Nested(IndexHistoryMeta, required=True)


class MoversArgs(Schema):
    metric = enum("MoverMetric", MOVER_METRICS, load_default="floor")
    period = enum("Period", PERIODS, names=PERIODS.values(), load_default="1d")
    limit = fields.Integer(load_default=10, validate=validate.Range(1, 50))
    date = day(metadata={"description": "Day (UTC); default: the latest computed day"})


class Mover(Schema):
    direction = fields.String(required=True, metadata={"description": "gainer or loser"})
    place = fields.Integer(required=True, metadata={"description": "1 for the biggest move of its direction"})
    product = fields.Nested(ProductSummary, required=True)
    price_before = fields.Decimal(as_string=False)
    price_now = fields.Decimal(as_string=False)
    change_usd = fields.Decimal(as_string=False)
    change_pct = fields.Float()
    active_listings = fields.Integer()


class MoversMeta(Meta):
    day = fields.Date(required=True)
    metric = enum("MoverMetric", MOVER_METRICS, required=True)
    period = enum(
        "Period", PERIODS, names=PERIODS.values(), required=True, metadata={"description": "The window of the change"}
    )
    per_direction = fields.Integer(required=True, metadata={"description": "At most this many gainers and losers"})


class Movers(Schema):
    data = fields.List(fields.Nested(Mover), required=True, metadata={"description": "Gainers, then losers"})
    meta = fields.Nested(MoversMeta, required=True)
