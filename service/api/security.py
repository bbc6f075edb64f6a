"""Browser-facing protection: CORS for the configured client origins, and security headers.
(Rate limits: service/api/ratelimit.py.)"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request
from flask_cors import CORS

from service.api.blueprint import API_SPEC
from service.core.settings import Settings

SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
)
# The API serves data, never a page: nothing it returns may load, run, frame or submit anything.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The interactive docs page (Swagger UI) loads its script and styles from where API_SPEC says.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' {assets}; style-src 'self' 'unsafe-inline' {assets}; "
    "img-src 'self' data: {assets}; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# The web dashboard (service/web.py): its own files only, no inline script, API calls to this origin.
# Box images too come from this origin (the service serves the copies it downloaded), so a visitor's
# browser never contacts a marketplace's image host.
WEB_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def init_security(app: Flask, settings: Settings) -> None:
    if settings.cors_origins:
        CORS(
            app,
            origins=list(settings.cors_origins),
            supports_credentials=False,
            max_age=600,
            expose_headers=["ETag", "X-Request-ID", "Retry-After", "X-Data-Mode"],
        )

    docs_path = app.config.get("OPENAPI_SWAGGER_UI_PATH", API_SPEC["OPENAPI_SWAGGER_UI_PATH"])
    assets = urlsplit(app.config.get("OPENAPI_SWAGGER_UI_URL", API_SPEC["OPENAPI_SWAGGER_UI_URL"]))
    docs_csp = DOCS_CSP.format(assets=f"{assets.scheme}://{assets.netloc}" if assets.netloc else "")

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.extend(SECURITY_HEADERS)  # no view sets these itself
        if request.path == docs_path:
            response.headers["Content-Security-Policy"] = docs_csp
        elif response.mimetype == "text/html":  # only the web dashboard's page is HTML
            response.headers["Content-Security-Policy"] = WEB_CSP
        else:
            response.headers["Content-Security-Policy"] = API_CSP
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
