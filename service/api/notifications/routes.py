"""The signed-in user's notifications inbox: one entry per alert firing."""

from __future__ import annotations

from typing import Any

from service.api.alerts.routes import shape
from service.api.auth import tokens
from service.api.blueprint import Blueprint
from service.api.common import envelope
from service.api.errors import ApiError
from service.api.notifications.schemas import Marked, Notification, NotificationArgs, NotificationPage
from service.extensions import database

blp = Blueprint(
    "notifications", __name__, url_prefix="/api/v1/me/notifications", description="The user's alert firings"
)


@blp.route("")
@blp.login_required
@blp.arguments(NotificationArgs, location="query")
@blp.response(200, NotificationPage)
def notifications(args: dict[str, Any]) -> dict[str, Any]:
    """Alert firings, newest first; `meta.unread` counts the unread ones."""
    params = {"user_id": tokens.current_user_id(), "unread_only": args["unread"]}
    rows = database().fetch_all("notifications/list", {**params, "limit": args["limit"], "offset": args["offset"]})
    counts = database().fetch_one("notifications/counts", params)
    assert counts is not None
    items = [shape(r) for r in rows]
    return envelope(items, total=counts["total"], limit=args["limit"], offset=args["offset"], unread=counts["unread"])


@blp.route("/<int:notification_id>/read", methods=["POST"])
@blp.login_required
@blp.response(200, Notification)
@blp.alt_response(404, description="No such notification among the user's")
def mark_notification_read(notification_id: int) -> dict[str, Any]:
    """Mark one notification read."""
    row = database().fetch_one("notifications/mark_read", {"id": notification_id, "user_id": tokens.current_user_id()})
    if row is None:
        raise ApiError(404, f"No notification {notification_id} among yours.")
    return shape(row)


@blp.route("/read", methods=["POST"])
@blp.login_required
@blp.response(200, Marked)
def mark_all_notifications_read() -> dict[str, Any]:
    """Mark every notification read."""
    row = database().fetch_one("notifications/mark_all_read", {"user_id": tokens.current_user_id()})
    return {"marked": row["marked"] if row else 0}
