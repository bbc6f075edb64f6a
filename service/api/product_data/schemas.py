from __future__ import annotations

from marshmallow import Schema, fields, validate

from service.api.common import Meta, PageArgs
from service.api.schemas import Pattern, day, enum, metric_field
from service.core import metrics

# Daily and weekly history charts the catalogue's numbers, by column name; weekly sums the flows.
DAILY = metrics.CHARTED
FLOWS = metrics.FLOWS
# What sql/queries/api/product_history_hourly.sql computes from the hourly rollups.
HOURLY = ("floor_price", "active_listings", "units_listed", "units_sold", "sales_count", "volume_usd")
DEFAULT_METRICS = "floor_price,market_price,volume_usd,units_sold,active_listings"
INTERVALS = {"1h": "HOUR", "1d": "DAY", "1w": "WEEK"}
BASES = ("reported", "inferred")


class HistoryArgs(Schema):
    metrics = fields.String(
        load_default=DEFAULT_METRICS,
        validate=validate.Length(1, 2000),
        metadata={"description": f"Comma-separated; any of {', '.join(DAILY)}"},
    )
    interval = enum("Interval", INTERVALS, names=INTERVALS.values(), load_default="1d")
    from_ = day(data_key="from", metadata={"description": "First day (UTC)"})
    to = day(metadata={"description": "Last day (UTC); default: the latest computed day (today for 1h)"})


# A point of a history: its period and the metrics asked for, by column name (volume_usd, not volume_24h).
HistoryPoint = Schema.from_dict(
    {
        "period": fields.String(
            required=True,
            metadata={
                "description": "The day (YYYY-MM-DD; a week's Monday for 1w), or the hour for 1h (ISO 8601 date-time)",
                "example": "2026-03-01",
            },
        ),
        **{column: metric_field(metrics.BY_COLUMN[column].name, optional=True) for column in DAILY},
    },
    name="HistoryPoint",
)


class HistoryMeta(Meta):
    product_id = fields.Integer(required=True)
    interval = enum("Interval", INTERVALS, names=INTERVALS.values(), required=True)
    metrics = fields.List(fields.String(), required=True, metadata={"description": "The charted metrics, in order"})
    from_ = fields.Date(required=True, data_key="from", metadata={"description": "First day (UTC)"})
    to = fields.Date(required=True, metadata={"description": "Last day (UTC)"})


class History(Schema):
    data = fields.List(
        fields.Nested(HistoryPoint),
        required=True,
        metadata={"description": "Oldest first; each point carries `period` and the metrics asked for"},
    )
    meta = fields.Nested(HistoryMeta, required=True)


class SalesArgs(PageArgs):
    marketplace = fields.String(validate=Pattern(r"^[a-z]+(-[a-z]+)*$"))
    basis = enum("SaleBasis", BASES)
    from_ = day(data_key="from")
    to = day()


class Sale(Schema):
    sold_at = fields.DateTime(required=True)
    marketplace = fields.String(required=True)
    unit_price = fields.Decimal(as_string=False)
    shipping = fields.Decimal(as_string=False)
    quantity = fields.Integer()
    basis = enum("SaleBasis", BASES, metadata={"description": "reported by the marketplace, or inferred"})


class SalesPage(Schema):
    data = fields.List(fields.Nested(Sale), required=True)
    meta = fields.Nested(Meta, required=True)


class ListingsArgs(PageArgs):
    marketplace = fields.String(validate=Pattern(r"^[a-z]+(-[a-z]+)*$"))


class Listing(Schema):
    marketplace = fields.String(required=True)
    observed_at = fields.DateTime(required=True)
    listing_id = fields.String(required=True)
    seller_id = fields.String()
    unit_price = fields.Decimal(as_string=False)
    shipping = fields.Decimal(as_string=False)
    landed_price = fields.Decimal(as_string=False)
    quantity = fields.Integer()


class ListingsPage(Schema):
    data = fields.List(fields.Nested(Listing), required=True)
    meta = fields.Nested(Meta, required=True)


class RankHistoryArgs(Schema):
    scope = fields.String(load_default="all", validate=Pattern(r"^(all|[a-z0-9]+(-[a-z0-9]+)*)$"))
    from_ = day(data_key="from")
    to = day()


class RankPoint(Schema):
    day = fields.Date(required=True)
    rank = fields.Integer()
    rank_1d_ago = fields.Integer(allow_none=True)
    rank_7d_ago = fields.Integer(allow_none=True)


class RankHistoryMeta(Meta):
    product_id = fields.Integer(required=True)
    scope = fields.String(required=True, metadata={"description": "'all' or a game code"})
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)


class RankHistory(Schema):
    data = fields.List(fields.Nested(RankPoint), required=True)
    meta = fields.Nested(RankHistoryMeta, required=True)


class SparklineArgs(Schema):
    metric = enum(
        "SparklineMetric", ("floor_price", "market_price", "volume_usd", "units_sold"), load_default="floor_price"
    )
    days = fields.Integer(load_default=30, validate=validate.Range(2, 365))
    width = fields.Integer(load_default=120, validate=validate.Range(20, 1000))
    height = fields.Integer(load_default=32, validate=validate.Range(10, 400))
