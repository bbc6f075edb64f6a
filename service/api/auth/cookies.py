"""Cookie sessions for the web client (issue 14): the refresh token in an httpOnly cookie.

A client that signs in with `"session": "cookie"` gets its access token in the body, to keep in
memory, and its refresh token in a cookie script cannot read: `HttpOnly`, `SameSite=Strict`,
`Secure` when the request came over HTTPS (request.is_secure, which gunicorn sets from the proxy's
X-Forwarded-Proto for the addresses in --forwarded-allow-ips), sent only to the refresh route.

Against cross-site requests, flask-jwt-extended's double submit: the refresh token carries a `csrf`
claim whose value is also set in a readable cookie (`csrf_refresh_token`, Path=/); the client sends
it back as `X-CSRF-TOKEN` on `POST /api/v1/auth/refresh`, which a page of another site cannot do
since it cannot read our cookies. Refresh without it, or with another value: 401.
Mobile clients keep bearer tokens and never meet any of this.
"""

from __future__ import annotations

from typing import Any

from flask import Response, after_this_request, request
from flask_jwt_extended import get_csrf_token

REFRESH_COOKIE = "refresh_token_cookie"  # flask-jwt-extended's JWT_REFRESH_COOKIE_NAME
CSRF_COOKIE = "csrf_refresh_token"  # its JWT_REFRESH_CSRF_COOKIE_NAME
CSRF_HEADER = "X-CSRF-TOKEN"  # its JWT_REFRESH_CSRF_HEADER_NAME
REFRESH_PATH = "/api/v1/auth/refresh"
CSRF_PATH = "/"  # readable by the client's script on every page

JWT_CONFIG = {
    "JWT_REFRESH_COOKIE_NAME": REFRESH_COOKIE,
    "JWT_REFRESH_COOKIE_PATH": REFRESH_PATH,
    "JWT_REFRESH_CSRF_COOKIE_NAME": CSRF_COOKIE,
    "JWT_REFRESH_CSRF_COOKIE_PATH": CSRF_PATH,
    "JWT_REFRESH_CSRF_HEADER_NAME": CSRF_HEADER,
    "JWT_COOKIE_CSRF_PROTECT": True,
    "JWT_CSRF_CHECK_FORM": False,  # the header only: a form post from another site cannot set it
    "JWT_COOKIE_SAMESITE": "Strict",
}


def deliver(tokens: dict[str, Any], max_age_s: int) -> dict[str, Any]:
    """Move the refresh token out of the body into the cookies of this response."""
    refresh = tokens.pop("refresh_token")
    csrf, secure = get_csrf_token(refresh), request.is_secure

    @after_this_request
    def _set(response: Response) -> Response:
        response.set_cookie(
            REFRESH_COOKIE, refresh, max_age=max_age_s, path=REFRESH_PATH, secure=secure, httponly=True,
            samesite="Strict",
        )  # fmt: skip
        response.set_cookie(
            CSRF_COOKIE, csrf, max_age=max_age_s, path=CSRF_PATH, secure=secure, httponly=False, samesite="Strict"
        )
        return response

    return tokens


def clear() -> None:
    """Expire both cookies on this response (sign-out)."""
    secure = request.is_secure

    @after_this_request
    def _clear(response: Response) -> Response:
        response.delete_cookie(REFRESH_COOKIE, path=REFRESH_PATH, secure=secure, httponly=True, samesite="Strict")
        response.delete_cookie(CSRF_COOKIE, path=CSRF_PATH, secure=secure, httponly=False, samesite="Strict")
        return response
