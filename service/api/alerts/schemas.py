from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service.api.common import Meta
from service.api.schemas import enum, whole_cents

PRICE_KINDS = ("floor_below", "floor_above", "listing_below")
KINDS = (*PRICE_KINDS, "floor_change", "volume_spike")
PRICE: list[Callable[[Any], Any]] = [validate.Range(0.01, 1_000_000), whole_cents]
CHANGE_PCT = validate.Range(0.1, 1000)
COOLDOWN = validate.Range(1, 720)
WINDOWS = {"1d": 1, "7d": 7}
WINDOW_NAMES = ("ONE_DAY", "SEVEN_DAYS")
DELIVERY_STATUSES = ("pending", "delivered", "failed")


def window(**kwargs: Any) -> fields.String:
    return enum("AlertWindow", WINDOWS, names=WINDOW_NAMES, **kwargs)


def kind(**kwargs: Any) -> fields.String:
    return enum("AlertKind", KINDS, **kwargs)


KIND_HELP = (
    "floor_below / floor_above: the floor crosses `price`; floor_change: the floor moved more than "
    "±`change_pct` % over `window`; volume_spike: units sold today >= 2x the 7-day average; "
    "listing_below: a new listing (or a price cut) below `price`, checked at ingest time."
)


# The parameters each kind takes (all required on creation).
KIND_PARAMETERS = {kind: {"price"} for kind in PRICE_KINDS} | {
    "floor_change": {"change_pct", "window"},
    "volume_spike": set(),
}
PARAMETERS = ("price", "change_pct", "window")


def parameter_errors(kind: str, data: dict[str, Any], *, creating: bool) -> dict[str, list[str]]:
    """Each kind takes exactly its own parameters: none missing (on creation), none foreign."""
    wanted = KIND_PARAMETERS[kind]
    errors = {name: [f"not used by {kind} alerts"] for name in PARAMETERS if name in data and name not in wanted}
    if creating:
        errors |= {name: [f"required for {kind} alerts"] for name in wanted if data.get(name) is None}
    return errors


class AlertPatch(Schema):
    """What an alert's owner may change; the kind stays (routes check the parameters fit it)."""

    price = fields.Decimal(as_string=False, validate=PRICE, metadata={"description": "USD"})
    change_pct = fields.Float(validate=CHANGE_PCT, metadata={"description": "Percent, e.g. 10 for ±10 %"})
    window = window()
    cooldown_hours = fields.Integer(validate=COOLDOWN)
    active = fields.Boolean()


class AlertIn(AlertPatch):
    product = fields.String(
        required=True, validate=validate.Length(1, 200), metadata={"description": "Product id or slug"}
    )
    kind = kind(required=True, metadata={"description": KIND_HELP})
    cooldown_hours = fields.Integer(load_default=24, validate=COOLDOWN)
    active = fields.Boolean(load_default=True)

    @validates_schema
    def parameters_fit_kind(self, data: dict[str, Any], **_: object) -> None:
        if data.get("kind") in KINDS:
            errors = parameter_errors(data["kind"], data, creating=True)
            if errors:
                raise ValidationError(errors)


class ProductRef(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)


class Alert(Schema):
    id = fields.Integer(required=True)
    kind = kind(required=True)
    product = fields.Nested(ProductRef, required=True)
    price = fields.Decimal(as_string=False, allow_none=True)
    change_pct = fields.Float(allow_none=True)
    window = window(allow_none=True)
    cooldown_hours = fields.Integer(required=True)
    active = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    last_fired_at = fields.DateTime(allow_none=True)


class AlertPage(Schema):
    data = fields.List(fields.Nested(Alert), required=True)
    meta = fields.Nested(Meta, required=True)


class WebhookIn(Schema):
    url = fields.Url(
        required=True,
        schemes={"https", "http"},
        require_tld=False,
        validate=validate.Length(max=2000),
        metadata={"description": "https URL that receives signed POSTs (see X-BoxPro-Signature)"},
    )


class Delivery(Schema):
    id = fields.Integer(required=True)
    notification_id = fields.Integer(required=True)
    url = fields.String(required=True)
    status = enum("DeliveryStatus", DELIVERY_STATUSES, required=True)
    attempts = fields.Integer(required=True)
    last_status = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True)


class Webhook(Schema):
    url = fields.String(required=True, allow_none=True, metadata={"description": "null while no webhook is set"})
    created_at = fields.DateTime(required=True, allow_none=True, metadata={"description": "null while none is set"})
    secret = fields.String(
        metadata={"description": "Signing secret; sent only in the answer that sets the webhook", "optional": True}
    )
    recent_deliveries = fields.List(
        fields.Nested(Delivery), metadata={"description": "Sent when the webhook is read", "optional": True}
    )
