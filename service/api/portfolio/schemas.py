from __future__ import annotations

from marshmallow import Schema, fields, validate

from service.api.common import Meta
from service.api.schemas import MONEY, day


class HoldingIn(Schema):
    product = fields.String(required=True, validate=validate.Length(1, 200))
    quantity = fields.Integer(required=True, validate=validate.Range(1, 100_000))
    unit_cost = fields.Decimal(required=True, as_string=False, validate=MONEY)
    acquired_on = day()
    notes = fields.String(validate=validate.Length(0, 500), allow_none=True)


class HoldingPatch(Schema):
    quantity = fields.Integer(validate=validate.Range(1, 100_000))
    unit_cost = fields.Decimal(as_string=False, validate=MONEY)
    acquired_on = day()
    notes = fields.String(validate=validate.Length(0, 500), allow_none=True)


class Holding(Schema):
    id = fields.Integer(required=True)
    product_id = fields.Integer(required=True)
    slug = fields.String()
    name = fields.String()
    game = fields.String()
    quantity = fields.Integer()
    unit_cost = fields.Decimal(as_string=False)
    acquired_on = fields.Date()
    notes = fields.String(allow_none=True)
    valued_on = fields.Date(allow_none=True)
    unit_value = fields.Decimal(as_string=False, allow_none=True)
    cost_basis = fields.Decimal(as_string=False)
    value = fields.Decimal(as_string=False, allow_none=True)
    pnl_usd = fields.Decimal(as_string=False, allow_none=True)
    pnl_pct = fields.Float(allow_none=True)


class Totals(Schema):
    cost_basis = fields.Decimal(as_string=False)
    value = fields.Decimal(as_string=False)
    pnl_usd = fields.Decimal(as_string=False)
    pnl_pct = fields.Float(allow_none=True)


class PortfolioMeta(Meta):
    totals = fields.Nested(Totals, required=True, metadata={"description": "Every holding together"})
    by_game = fields.Dict(
        keys=fields.String(), values=fields.Nested(Totals), required=True, metadata={"description": "By game code"}
    )


class Portfolio(Schema):
    data = fields.List(fields.Nested(Holding), required=True, metadata={"description": "The holdings, newest first"})
    meta = fields.Nested(PortfolioMeta, required=True)


class HistoryArgs(Schema):
    from_ = day(data_key="from")
    to = day()


class ValuePoint(Schema):
    day = fields.Date(required=True)
    cost_basis = fields.Decimal(as_string=False)
    value = fields.Decimal(as_string=False)
    priced_all = fields.Boolean()


NO_METRICS_YET = {"description": "null before any metrics"}


class PortfolioHistoryMeta(Meta):
    from_ = fields.Date(required=True, allow_none=True, data_key="from", metadata=NO_METRICS_YET)
    to = fields.Date(required=True, allow_none=True, metadata=NO_METRICS_YET)


class PortfolioHistory(Schema):
    data = fields.List(fields.Nested(ValuePoint), required=True)
    meta = fields.Nested(PortfolioHistoryMeta, required=True)
