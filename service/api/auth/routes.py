"""Accounts: register, login, refresh (rotating), logout, me, change password; by e-mail: verification
and password reset (the e-mails themselves are sent by jobs, service/core/outbox.py)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import redis
from flask import current_app
from flask_jwt_extended import get_jwt, get_jwt_request_location, jwt_required

from service.api.auth import cookies, sessions, tokens
from service.api.auth.schemas import (
    Accepted,
    Credentials,
    EmailToken,
    PasswordChange,
    PasswordReset,
    PasswordResetRequest,
    Registration,
    Tokens,
    User,
    UserChange,
)
from service.api.blueprint import BEARER, Blueprint
from service.api.errors import ApiError
from service.api.ratelimit import over_limit
from service.core import account_tokens, accounts, outbox
from service.core.settings import Rate, Settings
from service.core.sql import query
from service.extensions import database, redis_client

log = logging.getLogger(__name__)

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Accounts and tokens")


def _invalid(field: str, problems: list[str]) -> ApiError:
    return ApiError(422, "The request is not valid; see details.", details={"json": {field: problems}})


REGISTER_ACCEPTED = {
    "message": "Sign in with this address and password. We have e-mailed the address: a link to confirm it,"
    " or, if it had an account already, how to sign in to that one."
}


@blp.route("/auth/register", methods=["POST"])
@blp.arguments(Registration)
@blp.response(202, Accepted)
def register(body: dict[str, Any]) -> dict[str, str]:
    """Create an account (role `user`) and e-mail a link that verifies the address; then sign in
    (POST /auth/login). When the address has an account already, the answer is the same, and so is the
    work done here: that account's owner is e-mailed how to sign in or reset the password instead, and
    nothing else changes. So registering does not tell who has an account."""
    problems = accounts.password_problems(body["password"], body["email"])
    if problems:
        raise _invalid("password", problems)
    password_hash = accounts.hash_password(body["password"])  # the same work either way
    settings: Settings = current_app.config["SETTINGS"]
    rate = Rate.parse(settings.mail.rate_limit_password_reset)
    # Anyone may register anyone's address: e-mails to an address that has an account are limited per
    # address, as password resets are (counted for every registration, so the count tells nothing either).
    quiet = over_limit(current_app, "register", account_tokens.digest(body["email"]).hex(), rate)
    with database().connection() as conn:
        account = conn.execute(
            query("auth/register"), {"email": body["email"], "password_hash": password_hash}
        ).fetchone()
        if account is None:  # registered by a request that committed meanwhile: that one sends the e-mail
            return REGISTER_ACCEPTED
        if not account["created"] and quiet:
            log.info("registration of an address with an account: asked too often; nothing sent")
            return REGISTER_ACCEPTED
        kind = account_tokens.VERIFY_EMAIL if account["created"] else outbox.ACCOUNT_EXISTS
        email_id = outbox.queue(conn, account["id"], kind)
        conn.commit()
        outbox.dispatch(conn, redis_client(), ids=[email_id])  # after the commit: the job must find its row
    return REGISTER_ACCEPTED


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
    return _session_tokens(tokens.issue_tokens(user), credentials["session"])


def _session_tokens(issued: dict[str, Any], session: str) -> dict[str, Any]:
    """A cookie session's refresh token goes into cookies (cookies.py), a bearer session's into the body."""
    if session == "cookie":
        return cookies.deliver(issued, int(tokens.REFRESH_TTL.total_seconds()))
    return issued


@blp.route("/auth/refresh", methods=["POST"])
# The cookie first: a web client that sends its access token on every call still refreshes by its cookie.
@jwt_required(refresh=True, locations=["cookies", "headers"])
@blp.response(200, Tokens)
@blp.alt_response(401, description="Missing, invalid, spent or revoked refresh token, or a missing or wrong CSRF token")
@blp.doc(
    security=BEARER,
    description="Send the refresh token as the Bearer token, or (cookie sessions) send the refresh cookie "
    "with the value of the csrf_refresh_token cookie as the X-CSRF-TOKEN header. It is rotated: the old "
    "one stops working (a cookie session gets new cookies), and using it again revokes every token of the session.",
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
    issued = tokens.issue_tokens(user, family=uuid.UUID(str(used["family"])))
    return _session_tokens(issued, "cookie" if get_jwt_request_location() == "cookies" else "bearer")


@blp.route("/auth/logout", methods=["POST"])
@blp.login_required
@blp.response(204)
def logout() -> None:
    """End the session: every access and refresh token of it, issued before or after a refresh.
    A cookie session's cookies are cleared."""
    database().fetch_all("auth/end_session", {"family": get_jwt()["family"]})
    sessions.ended([get_jwt()["family"]])
    cookies.clear()


@blp.route("/me")
@blp.login_required
@blp.response(200, User)
def me() -> dict[str, Any]:
    """The signed-in account."""
    user = database().fetch_one("auth/user_by_id", {"id": tokens.current_user_id()})
    if user is None:
        raise ApiError(401, "The account no longer exists.")
    return user


@blp.route("/me", methods=["PATCH"])
@blp.login_required
@blp.arguments(UserChange)
@blp.response(200, User)
def change_me(change: dict[str, Any]) -> dict[str, Any]:
    """Account preferences: `alert_emails` e-mails each alert firing (only to a verified address)."""
    user = database().fetch_one("auth/set_alert_emails", {"id": tokens.current_user_id(), **change})
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


INVALID_LINK = "This link is invalid, expired or already used; ask for a new one."


@blp.route("/auth/verify-email", methods=["POST"])
@blp.arguments(EmailToken)
@blp.response(204)
@blp.alt_response(400, description="The token is wrong, expired or already used")
def verify_email(body: dict[str, Any]) -> None:
    """Confirm the address with the token of the verification e-mail (single use)."""
    with database().connection() as conn:
        user_id = account_tokens.spend(conn, body["token"], account_tokens.VERIFY_EMAIL)
        if user_id is None:
            raise ApiError(400, INVALID_LINK)
        conn.execute(query("auth/verify_email"), {"id": user_id})


@blp.route("/auth/verify-email/resend", methods=["POST"])
@blp.login_required
@blp.response(202, Accepted)
@blp.alt_response(409, description="The address is verified already")
def resend_verification() -> dict[str, str]:
    """E-mail a new verification link to the signed-in account's address."""
    with database().connection() as conn:
        user = conn.execute(query("auth/user_by_id"), {"id": tokens.current_user_id()}).fetchone()
        if user is None:
            raise ApiError(401, "The account no longer exists.")
        if user["email_verified"]:
            raise ApiError(409, "This address is verified already.")
        email_id = outbox.queue(conn, user["id"], account_tokens.VERIFY_EMAIL)
        conn.commit()
        outbox.dispatch(conn, redis_client(), ids=[email_id])
    return {"message": "A new verification link is on its way."}


RESET_ACCEPTED = {"message": "If an account uses that address, a link to reset its password is on its way."}


@blp.route("/auth/password-reset", methods=["POST"])
@blp.arguments(PasswordResetRequest)
@blp.response(202, Accepted)
@blp.alt_response(503, description="The request could not be queued; try again")
def request_password_reset(body: dict[str, Any]) -> dict[str, str]:
    """E-mail a password-reset link. The answer is the same whether or not the address has an account,
    and so is the work done here: a job looks the address up and sends the e-mail."""
    settings: Settings = current_app.config["SETTINGS"]
    address = account_tokens.digest(body["email"]).hex()
    if over_limit(current_app, "reset", address, Rate.parse(settings.mail.rate_limit_password_reset)):
        log.info("password reset: this address asked too often; nothing sent")
        return RESET_ACCEPTED  # the same answer: a limit per address must not tell who has an account
    try:
        outbox.request_password_reset(redis_client(), body["email"])
    except redis.RedisError:
        log.warning("password reset: could not queue the request", exc_info=True)
        raise ApiError(
            503, "Could not take the request now; try again in a minute.", headers={"Retry-After": "60"}
        ) from None
    return RESET_ACCEPTED


@blp.route("/auth/password-reset/confirm", methods=["POST"])
@blp.arguments(PasswordReset)
@blp.response(204)
@blp.alt_response(400, description="The token is wrong, expired or already used")
def confirm_password_reset(body: dict[str, Any]) -> None:
    """Set a new password with the token of the reset e-mail (single use). Every session of the
    account ends; the address counts as verified (the link reached it)."""
    with database().connection() as conn:
        user_id = account_tokens.spend(conn, body["token"], account_tokens.PASSWORD_RESET)
        if user_id is None:
            raise ApiError(400, INVALID_LINK)
        user = conn.execute(query("auth/user_by_id"), {"id": user_id}).fetchone()
        assert user is not None  # the token's row cascades with the account
        problems = accounts.password_problems(body["password"], user["email"])
        if problems:
            conn.rollback()  # the token stays usable for a better password
            raise _invalid("password", problems)
        conn.execute(
            query("auth/set_password"), {"id": user_id, "password_hash": accounts.hash_password(body["password"])}
        )
        conn.execute(query("account_tokens/spend_all"), {"user_id": user_id, "purpose": account_tokens.PASSWORD_RESET})
        conn.execute(query("auth/verify_email"), {"id": user_id})
        ended = conn.execute(query("auth/revoke_user"), {"user_id": user_id}).fetchall()
    sessions.ended(row["family"] for row in ended)
