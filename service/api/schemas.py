"""Shapes and validators shared by several resources."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from service.core import metrics


def whole_cents(amount: Decimal) -> None:
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationError("at most 2 decimal places")


class Pattern(validate.Regexp):
    """validate.Regexp matching the whole value: in Python `$` also matches before a final newline, so
    `^[a-z]+$` took "abc\n" (and stored it). The pattern is written `^...$` for OpenAPI, where (ECMA 262)
    `$` is the end of the value."""

    def __call__(self, value: Any) -> Any:
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


MONEY: list[Callable[[Any], Any]] = [validate.Range(0, 1_000_000), whole_cents]


def enum(title: str, values: Iterable[str], *, names: Iterable[str] = (), **kwargs: Any) -> fields.String:
    """A string from a fixed set, documented as an enum named `title`. Client generators make one class
    per title (fields with the same title must list the same values, in the same order), its members
    named after the values, or after `names` where a value is no identifier ("7d" -> SEVEN_DAYS)."""
    metadata = {"title": title, **kwargs.pop("metadata", {})}
    if names := list(names):
        metadata["x-enum-varnames"] = names
    return fields.String(validate=validate.OneOf(list(values)), metadata=metadata, **kwargs)


# The days the API takes, in any argument or body field (as the README says): wide enough for every
# box ever sold and every plan ahead, narrow enough that a day computed from one (the day after `to`, 90
# days before it) is always a date: 0001-01-01 and 9999-12-31 are a 422, not an overflow.
FIRST_DAY, LAST_DAY = date(1990, 1, 1), date(2100, 12, 31)


def _in_range(day: date) -> None:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(f"must be from {FIRST_DAY} to {LAST_DAY}")


def day(**kwargs: Any) -> fields.Date:
    """A date the API takes (a query argument or a body field): from FIRST_DAY to LAST_DAY, else a 422.
    Every input date is one (tests/api/test_bad_input.py checks the input schemas)."""
    metadata = kwargs.pop("metadata", {})
    bounds = f"From {FIRST_DAY} to {LAST_DAY}."
    metadata["description"] = f"{metadata['description']}. {bounds}" if "description" in metadata else bounds
    return fields.Date(validate=_in_range, metadata=metadata, **kwargs)


REPRINT_RISKS = ("LOW", "UNCONFIRMED", "ELEVATED")
PERIODS = {"1d": "ONE_DAY", "7d": "SEVEN_DAYS", "30d": "THIRTY_DAYS"}


class ProductSummary(Schema):
    id = fields.Integer(required=True, metadata={"example": 42})
    slug = fields.String(required=True, metadata={"example": "op-13-booster-box"})
    name = fields.String(required=True, metadata={"example": "One Piece OP-13 Carrying On His Will Booster Box"})
    game = fields.String(required=True, metadata={"example": "one-piece"})
    set_code = fields.String(allow_none=True, metadata={"example": "OP-13"})
    set_name = fields.String(allow_none=True, metadata={"example": "Carrying On His Will"})
    product_type = fields.String(required=True, metadata={"example": "booster_box"})
    release_date = fields.Date(allow_none=True, metadata={"example": "2025-11-07"})
    image_url = fields.String(
        allow_none=True,
        metadata={
            "description": "The box image, served by this service (a path: GET /api/v1/products/{id}/image?v=...);"
            " null when none is stored (show a placeholder)"
        },
    )
    reprint_risk = enum("ReprintRisk", REPRINT_RISKS, required=True)


def metric_field(name: str, *, optional: bool = False) -> fields.Field:
    """The field of a catalogued metric (service/core/metrics.py): its type and description come from
    there. `optional`: a response may leave it out (history points carry only the metrics asked for)."""
    metric = metrics.BY_NAME[name]
    meta: dict[str, Any] = {"description": metric.description, "optional": optional}
    match metric.kind:
        case "money":
            return fields.Decimal(as_string=False, allow_none=True, metadata=meta)
        case "number" | "percent":
            return fields.Float(allow_none=True, metadata=meta)
        case "integer":
            return fields.Integer(allow_none=True, metadata=meta)
        case "flag":
            return fields.Boolean(metadata=meta)
        case "label":
            return enum(metric.label_enum, metric.values, allow_none=True, dump_only=True, metadata=meta)


# A product's day as the leaderboard, the watchlist and product detail show it: the catalogue's summary
# metrics, in its order (the leaderboard builds the same object in SQL).
MetricsSummary = Schema.from_dict(
    {"day": fields.Date(required=True), **{metric.name: metric_field(metric.name) for metric in metrics.SUMMARY}},
    name="MetricsSummary",
)

MOVEMENT = "up, down, same, or new (no rank before); null without a rank"
MOVEMENTS = ("up", "down", "same", "new")


class RankMovement(Schema):
    rank = fields.Integer(allow_none=True, metadata={"example": 3})
    rank_1d_ago = fields.Integer(allow_none=True, metadata={"example": 5})
    rank_7d_ago = fields.Integer(allow_none=True, metadata={"example": 3})
    change_1d = enum("RankChange", MOVEMENTS, allow_none=True, dump_only=True, metadata={"description": MOVEMENT})
    change_7d = enum("RankChange", MOVEMENTS, allow_none=True, dump_only=True, metadata={"description": MOVEMENT})
