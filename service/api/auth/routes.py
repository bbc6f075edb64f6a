"""Accounts: register, login, refresh (rotating), logout, me, change password."""

from __future__ import annotations

import uuid
from typing import Any

from flask_jwt_extended import get_jwt, jwt_required

from service.api.auth import sessions, tokens
from service.api.auth.schemas import Credentials, PasswordChange, Registered, Tokens, User
from service.api.blueprint import BEARER, Blueprint
from service.api.errors import ApiError
from service.core import accounts
from service.core.sql import query
from service.extensions import database

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Accounts and tokens")


def _invalid(field: str, problems: list[str]) -> ApiError:
    return ApiError(422, "The request is not valid; see details.", details={"json": {field: problems}})


@blp.route("/auth/register", methods=["POST"])
@blp.arguments(Credentials)
@blp.response(201, Registered)
@blp.alt_response(409, description="The email address is taken")
def register(credentials: dict[str, Any]) -> dict[str, Any]:
    """Create an account (role `user`) and sign in."""
    problems = accounts.password_problems(credentials["password"], credentials["email"])
    if problems:
        raise _invalid("password", problems)
    user = database().fetch_one(
        "auth/create_user",
        {
            "email": credentials["email"],
            "password_hash": accounts.hash_password(credentials["password"]),
            "role": "user",
        },
    )
    if user is None:
        raise ApiError(409, "An account with that email address exists.")
    return {"user": user, "tokens": tokens.issue_tokens(user)}


@blp.route("/auth/login", methods=["POST"])
@blp.arguments(Credentials)
@blp.response(200, Tokens)
@blp.alt_response(401, description="Wrong email or password")
def login(credentials: dict[str, Any]) -> dict[str, Any]:
    """Exchange email and password for an access token (15 min) and a refresh token (30 days)."""
    user = database().fetch_one("auth/user_by_email", {"email": credentials["email"]})
    if user is None:
        accounts.hash_password(credentials["password"])  # same work either way: no timing hint
        raise ApiError(401, "Wrong email or password.")
    if not accounts.verify_password(user["password_hash"], credentials["password"]):
        raise ApiError(401, "Wrong email or password.")
    return tokens.issue_tokens(user)


@blp.route("/auth/refresh", methods=["POST"])
@jwt_required(refresh=True)
@blp.response(200, Tokens)
@blp.doc(
    security=BEARER,
    description="Send the refresh token as the Bearer token. It is rotated: the old "
    "one stops working, and using it again revokes every token of the session.",
)
def refresh() -> dict[str, Any]:
    """A new token pair for a refresh token (which is then spent)."""
    claims = get_jwt()
    used = database().fetch_one("auth/use_refresh", {"jti": claims["jti"]})
    if used is None:
        # A spent token presented again: someone else may hold it. End the whole session.
        sessions.ended(r["family"] for r in database().fetch_all("auth/revoke_family", {"jti": claims["jti"]}))
        raise ApiError(401, "This refresh token was already used or revoked; sign in again.")
    user = database().fetch_one("auth/user_by_id", {"id": used["user_id"]})
    if user is None:
        raise ApiError(401, "The account no longer exists.")
    return tokens.issue_tokens(user, family=uuid.UUID(str(used["family"])))


@blp.route("/auth/logout", methods=["POST"])
@blp.login_required
@blp.response(204)
def logout() -> None:
    """End the session: every access and refresh token of it, issued before or after a refresh."""
    database().fetch_all("auth/end_session", {"family": get_jwt()["family"]})
    sessions.ended([get_jwt()["family"]])


@blp.route("/me")
@blp.login_required
@blp.response(200, User)
def me() -> dict[str, Any]:
    """The signed-in account."""
    user = database().fetch_one("auth/user_by_id", {"id": tokens.current_user_id()})
    if user is None:
        raise ApiError(401, "The account no longer exists.")
    return user


@blp.route("/me/password", methods=["POST"])
@blp.alt_response(403, description="The current password is wrong")
@blp.login_required
@blp.arguments(PasswordChange)
@blp.response(204)
def change_password(change: dict[str, Any]) -> None:
    """Change the password; every refresh token of the account is revoked."""
    user = database().fetch_one("auth/user_by_id", {"id": tokens.current_user_id()})
    if user is None or not accounts.verify_password(user["password_hash"], change["current_password"]):
        raise ApiError(403, "The current password is wrong.")
    problems = accounts.password_problems(change["new_password"], user["email"])
    if problems:
        raise _invalid("new_password", problems)
    with database().connection() as conn:
        conn.execute(
            query("auth/set_password"),
            {"id": user["id"], "password_hash": accounts.hash_password(change["new_password"])},
        )
        ended = conn.execute(query("auth/revoke_user"), {"user_id": user["id"]}).fetchall()
    sessions.ended(row["family"] for row in ended)  # every session of the account, this one too
