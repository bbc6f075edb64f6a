"""Browser-facing protection: CORS for the configured client origins, and security headers.
(Rate limits: service/api/ratelimit.py.)"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_cors import CORS

from service.core.settings import Settings

SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
)


def init_security(app: Flask, settings: Settings) -> None:
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
        response.headers.extend(SECURITY_HEADERS)  # no view sets these itself
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
