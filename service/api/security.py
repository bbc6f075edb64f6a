"""Browser-facing protection: CORS for the configured client origins, and security headers.
(Rate limits: service/api/ratelimit.py.)"""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Response, request
from flask_cors import CORS

from service.api.blueprint import API_SPEC
from service.core.settings import Settings

SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")  # over https only
# The API serves data, never a page: nothing it returns may load, run, frame or submit anything.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The docs pages (Swagger UI, ReDoc) run their bundles from this service ('self'), plus the inline
# script of flask-smorest's page template, allowed by its hash; ReDoc injects <style> elements and runs
# its search index in a blob: worker; Swagger UI's stylesheet has data: images. ReDoc's footer tries an
# outside logo, which this policy blocks (the image hides itself).
DOCS_CSP = (
    "default-src 'none'; script-src {scripts}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; worker-src blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
# The web dashboard (service/web.py): its own files only, no inline script, API calls to this origin.
# Box images too come from this origin (the service serves the copies it downloaded), so a visitor's
# browser never contacts a marketplace's image host.
WEB_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def docs_csp(page: bytes) -> str:
    """The docs page's policy: its own inline scripts allowed by hash, nothing else inline."""
    hashes = [base64.b64encode(hashlib.sha256(script).digest()).decode() for script in _INLINE_SCRIPT.findall(page)]
    return DOCS_CSP.format(scripts=" ".join(["'self'", *(f"'sha256-{digest}'" for digest in hashes)]))


def fixed_headers(settings: Settings) -> list[tuple[str, str]]:
    """Every response's fixed headers, in one list: one extend per response. X-Data-Mode lets a
    client show a "demo data" banner."""
    return [*SECURITY_HEADERS, ("X-Data-Mode", settings.data_mode), ("Content-Security-Policy", API_CSP)]


def init_security(app: Flask, settings: Settings) -> None:
    cors = bool(settings.cors_origins)
    if cors:
        # CORS headers only for requests that carry an Origin (flask-cors would send them to every
        # request); every answer then varies on Origin, so no cache hands one origin's answer to another.
        CORS(
            app,
            origins=list(settings.cors_origins),
            supports_credentials=False,
            max_age=600,
            expose_headers=["ETag", "X-Request-ID", "Retry-After", "X-Data-Mode"],
            always_send=False,
        )

    docs_pages = {
        app.config.get(name, API_SPEC.get(name)) for name in ("OPENAPI_SWAGGER_UI_PATH", "OPENAPI_REDOC_PATH")
    } - {None}
    fixed = fixed_headers(settings)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.extend(fixed)  # no view sets these itself; the CSP is API_CSP but on pages:
        if request.path in docs_pages and response.status_code in (200, 304):  # a 304 updates stored headers
            response.headers["Content-Security-Policy"] = docs_csp(response.get_data())
        elif response.mimetype == "text/html":  # only the web dashboard's page is HTML
            response.headers["Content-Security-Policy"] = WEB_CSP
        if request.is_secure:
            response.headers.setdefault(*HSTS)
        if cors:
            response.vary.add("Origin")
        return response
