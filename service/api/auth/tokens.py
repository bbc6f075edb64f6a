"""Tokens: 15-minute access tokens, 30-day refresh tokens
rotated on every use (a reused refresh token revokes its whole family), and logout that revokes both.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, Response
from flask_jwt_extended import JWTManager, create_access_token, create_refresh_token, get_jwt

from service.api.auth import cookies, sessions
from service.api.errors import error_response
from service.core.sql import query
from service.extensions import database

log = logging.getLogger(__name__)

ACCESS_TTL = sessions.ACCESS_TTL
REFRESH_TTL = timedelta(days=30)


def issue_tokens(user: dict[str, Any], family: uuid.UUID | None = None) -> dict[str, Any]:
    family = family or uuid.uuid4()
    claims = {"role": user["role"], "family": str(family)}
    refresh_jti = uuid.uuid4()
    access = create_access_token(identity=str(user["id"]), additional_claims=claims, expires_delta=ACCESS_TTL)
    refresh = create_refresh_token(
        identity=str(user["id"]), additional_claims={**claims, "jti": str(refresh_jti)}, expires_delta=REFRESH_TTL
    )
    with database().connection() as conn:
        conn.execute(
            query("auth/store_refresh"),
            {
                "jti": refresh_jti,
                "family": family,
                "user_id": user["id"],
                "expires_at": datetime.now(UTC) + REFRESH_TTL,
            },
        )
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": int(ACCESS_TTL.total_seconds()),
    }


def current_user_id() -> int:
    return int(get_jwt()["sub"])


def init_auth(app: Flask, secret: str) -> JWTManager:
    # Bearer tokens everywhere; the refresh route alone also reads the web client's cookie (cookies.py).
    app.config.update(
        JWT_SECRET_KEY=secret, JWT_TOKEN_LOCATION=["headers"], JWT_ALGORITHM="HS256", **cookies.JWT_CONFIG
    )
    jwt = JWTManager(app)

    @jwt.token_in_blocklist_loader
    def _revoked(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
        if payload.get("type") == "refresh":
            return False  # refresh tokens are checked against the database when used
        family = payload.get("family")
        return family is None or sessions.is_ended(str(family))

    def unauthorized(message: str) -> Response:
        return error_response(401, message, headers={"WWW-Authenticate": "Bearer"})

    jwt.unauthorized_loader(lambda reason: unauthorized(f"Authentication required: {reason}."))
    jwt.invalid_token_loader(lambda reason: unauthorized(f"Invalid token: {reason}."))
    jwt.expired_token_loader(lambda _h, _p: unauthorized("The token has expired."))
    jwt.revoked_token_loader(lambda _h, _p: unauthorized("The token has been revoked."))
    jwt.needs_fresh_token_loader(lambda _h, _p: unauthorized("A fresh token is required."))
    jwt.user_lookup_error_loader(lambda _h, _p: unauthorized("The account no longer exists."))
    return jwt
