"""The signed-in user's alerts (SPEC §6) and the webhook their firings are POSTed to."""

from __future__ import annotations

from typing import Any

from flask import current_app

from service.api.alerts.schemas import (
    WINDOWS,
    Alert,
    AlertIn,
    AlertPage,
    AlertPatch,
    Webhook,
    WebhookIn,
    parameter_errors,
)  # fmt: skip
from service.api.auth import tokens
from service.api.blueprint import Blueprint
from service.api.catalog.routes import find_product
from service.api.common import PageArgs, envelope
from service.api.errors import ApiError
from service.core import webhooks
from service.extensions import database

blp = Blueprint("alerts", __name__, url_prefix="/api/v1/me", description="The user's alerts and webhook")
MAX_ALERTS = 100
RECENT_DELIVERIES = 10


def shape(row: dict[str, Any]) -> dict[str, Any]:
    """A query row as the API's shape: the product nested, the window as `1d`/`7d`."""
    out = {k: v for k, v in row.items() if k not in {"product_id", "slug", "name", "window_days", "user_id"}}
    out["product"] = {"id": row["product_id"], "slug": row["slug"], "name": row["name"]}
    if "window_days" in row:
        out["window"] = f"{row['window_days']}d" if row["window_days"] else None
    return out


def _alert(alert_id: int) -> dict[str, Any]:
    row = database().fetch_one("alerts/get", {"id": alert_id, "user_id": tokens.current_user_id()})
    if row is None:
        raise ApiError(404, f"No alert {alert_id} among your alerts.")
    return row


def _threshold(body: dict[str, Any]) -> Any:
    return body["price"] if body.get("price") is not None else body.get("change_pct")


@blp.route("/alerts")
@blp.login_required
@blp.arguments(PageArgs, location="query")
@blp.response(200, AlertPage)
def alerts(args: dict[str, Any]) -> dict[str, Any]:
    """The user's alerts, newest first."""
    rows = database().fetch_all("alerts/list", {"user_id": tokens.current_user_id(), **args})
    total = rows[0]["total"] if rows else 0
    return envelope([shape(r) for r in rows], total=total, limit=args["limit"], offset=args["offset"])


@blp.route("/alerts", methods=["POST"])
@blp.login_required
@blp.arguments(AlertIn)
@blp.response(201, Alert)
@blp.alt_response(404, description="No such product")
@blp.alt_response(409, description="The user already has the maximum number of alerts")
def create_alert(body: dict[str, Any]) -> dict[str, Any]:
    """Create an alert. Each fires at most once per cooldown; firings land in /me/notifications."""
    product = find_product(body["product"])
    row = database().fetch_one(
        "alerts/create",
        {
            "user_id": tokens.current_user_id(),
            "product_id": product["id"],
            "kind": body["kind"],
            "threshold": _threshold(body),
            "window_days": WINDOWS.get(body.get("window", "")),
            "cooldown_hours": body["cooldown_hours"],
            "active": body["active"],
            "max_alerts": MAX_ALERTS,
        },
    )
    if row is None:
        raise ApiError(409, f"You already have {MAX_ALERTS} alerts; delete one first.", code="limit_reached")
    return shape(_alert(row["id"]))


@blp.route("/alerts/<int:alert_id>")
@blp.login_required
@blp.response(200, Alert)
@blp.alt_response(404, description="No such alert among the user's")
def get_alert(alert_id: int) -> dict[str, Any]:
    """One alert."""
    return shape(_alert(alert_id))


@blp.route("/alerts/<int:alert_id>", methods=["PATCH"])
@blp.login_required
@blp.arguments(AlertPatch)
@blp.response(200, Alert)
@blp.alt_response(404, description="No such alert among the user's")
def update_alert(body: dict[str, Any], alert_id: int) -> dict[str, Any]:
    """Change an alert's price or percentage, window, cooldown, or pause it (`active: false`)."""
    alert = _alert(alert_id)
    errors = parameter_errors(alert["kind"], body, creating=False)  # the kind stays; so do its parameters
    if errors:
        raise ApiError(422, "The request is not valid; see details.", details={"json": errors})
    database().fetch_one(
        "alerts/update",
        {
            "id": alert_id,
            "user_id": tokens.current_user_id(),
            "threshold": _threshold(body),
            "window_days": WINDOWS.get(body.get("window", "")),
            "cooldown_hours": body.get("cooldown_hours"),
            "active": body.get("active"),
        },
    )
    return shape(_alert(alert_id))


@blp.route("/alerts/<int:alert_id>", methods=["DELETE"])
@blp.login_required
@blp.response(204)
@blp.alt_response(404, description="No such alert among the user's")
def delete_alert(alert_id: int) -> None:
    """Delete an alert (its past notifications stay in the inbox)."""
    if database().fetch_one("alerts/delete", {"id": alert_id, "user_id": tokens.current_user_id()}) is None:
        raise ApiError(404, f"No alert {alert_id} among your alerts.")


# What GET /me/webhook answers when none is set: the same shape, with nulls (not a 404, which a
# generated client would raise for the ordinary state of a new account).
NO_WEBHOOK = {"url": None, "created_at": None}


@blp.route("/webhook")
@blp.login_required
@blp.response(200, Webhook)
def webhook() -> dict[str, Any]:
    """The webhook alert firings are POSTed to, with its most recent deliveries; `url` and
    `created_at` are null while none is set."""
    user = {"user_id": tokens.current_user_id()}
    row = database().fetch_one("webhooks/get", user) or NO_WEBHOOK
    deliveries = database().fetch_all("webhooks/deliveries", {**user, "limit": RECENT_DELIVERIES})
    return {**row, "recent_deliveries": deliveries}


@blp.route("/webhook", methods=["PUT"])
@blp.login_required
@blp.arguments(WebhookIn)
@blp.response(200, Webhook)
def set_webhook(body: dict[str, Any]) -> dict[str, Any]:
    """Set (or replace) the webhook. A new signing secret is made and shown in this response only.

    Each delivery is a POST of JSON with `X-BoxPro-Delivery`, `X-BoxPro-Timestamp` and
    `X-BoxPro-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.
    """
    try:  # the check every delivery makes (jobs/webhooks.py): a URL it would refuse is refused now
        webhooks.public_address(body["url"], allow_private=current_app.config["SETTINGS"].webhook_allow_private)
    except webhooks.Unresolvable:
        pass  # a name without an address yet (a new domain) may have one by the first delivery
    except webhooks.UnsafeUrl as exc:
        raise ApiError(422, "The request is not valid; see details.", details={"json": {"url": [str(exc)]}}) from None
    row = database().fetch_one(
        "webhooks/put", {"user_id": tokens.current_user_id(), "url": body["url"], "secret": webhooks.new_secret()}
    )
    assert row is not None
    return row


@blp.route("/webhook", methods=["DELETE"])
@blp.login_required
@blp.response(204)
@blp.alt_response(404, description="No webhook set")
def delete_webhook() -> None:
    """Remove the webhook; pending deliveries to it are given up."""
    if database().fetch_one("webhooks/delete", {"user_id": tokens.current_user_id()}) is None:
        raise ApiError(404, "You have not set a webhook.")
