from __future__ import annotations

from marshmallow import Schema, fields, validate

from service.api.common import Meta
from service.api.schemas import MetricsSummary, ProductSummary, RankMovement


class WatchlistAdd(Schema):
    product = fields.String(
        required=True, validate=validate.Length(1, 200), metadata={"description": "Product id or slug"}
    )


class WatchlistItem(RankMovement):
    added_at = fields.DateTime(required=True)
    product = fields.Nested(ProductSummary, required=True)
    metrics = fields.Nested(MetricsSummary, allow_none=True)


class WatchlistPage(Schema):
    data = fields.List(fields.Nested(WatchlistItem), required=True)
    meta = fields.Nested(Meta, required=True)
