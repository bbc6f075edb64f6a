from __future__ import annotations

from marshmallow import Schema, fields

from service.api.alerts.schemas import ProductRef, kind
from service.api.common import Meta, PageArgs


class NotificationArgs(PageArgs):
    unread = fields.Boolean(load_default=False, metadata={"description": "Only unread notifications"})


class Notification(Schema):
    id = fields.Integer(required=True)
    alert_id = fields.Integer(allow_none=True, metadata={"description": "Null once the alert is deleted"})
    kind = kind(required=True)
    product = fields.Nested(ProductRef, required=True)
    fired_at = fields.DateTime(required=True)
    message = fields.String(required=True)
    details = fields.Dict(required=True)
    read_at = fields.DateTime(allow_none=True)


class NotificationMeta(Meta):
    unread = fields.Integer(required=True)


class NotificationPage(Schema):
    data = fields.List(fields.Nested(Notification), required=True)
    meta = fields.Nested(NotificationMeta, required=True)


class Marked(Schema):
    marked = fields.Integer(required=True)
