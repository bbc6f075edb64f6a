"""Abuse protection and browser-facing headers: rate limits (Redis-backed, shared by every
gunicorn worker), CORS for the configured client origins, and security headers."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_cors import CORS
from flask_jwt_extended import get_jwt_identity, verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from jwt.exceptions import PyJWTError

from service.settings import Settings


def rate_limit_key() -> str:
    """Signed-in callers are limited per account (wherever they connect from); others per address."""
    try:
        verify_jwt_in_request(optional=True)
        identity = get_jwt_identity()
    except (JWTExtendedException, PyJWTError):
        identity = None  # a bad token is refused by the view; here it is just an anonymous caller
    return f"user:{identity}" if identity else f"ip:{get_remote_address()}"


def init_security(app: Flask, settings: Settings) -> Limiter:
    limiter = Limiter(
        rate_limit_key,
        app=app,
        storage_uri=settings.redis_url,
        storage_options={"socket_connect_timeout": 1, "socket_timeout": 1},
        default_limits=[settings.rate_limit_default],
        headers_enabled=True,  # X-RateLimit-* and Retry-After
        # Redis down: serve from the database without limits rather than fail every request,
        # falling back to per-process limits in memory.
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        key_prefix="boxpro:limits",
    )
    if settings.cors_origins:
        CORS(
            app,
            origins=list(settings.cors_origins),
            supports_credentials=False,
            max_age=600,
            expose_headers=["ETag", "X-Request-ID", "Retry-After"],
        )

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response

    return limiter
