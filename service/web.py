"""Serves the web dashboard (`web/`, built by `npm run build` into `web/dist`) at `/`.

The API keeps `/api/v1`, `/docs`, `/openapi.json`, `/health` and `/metrics`; everything else a browser
asks for is the single-page app: hashed files under `/assets` (cached for a year, their names change
with their content), and `index.html` (never cached, so a deploy is seen at once) for `/` and for any
client route the browser opens directly, such as `/box/op-13-booster-box`.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, request, send_from_directory
from werkzeug.exceptions import NotFound

from service.api.errors import http_exception_response
from service.core.settings import PROJECT_ROOT

DIST = PROJECT_ROOT / "web" / "dist"
YEAR_S = 31536000
IMMUTABLE = f"public, max-age={YEAR_S}, immutable"
# Paths that belong to the API and operations: a miss there is a JSON 404, never the app's page.
DATA_MODE_META = '<meta name="data-mode" content="{}" />'
NOT_THE_APP = ("/api/", "/docs", "/openapi.json", "/health", "/metrics", "/assets/")

blp = Blueprint("web", __name__)


def _dist() -> Path:
    return Path(current_app.config.get("WEB_DIST", DIST))


def _index() -> Response:
    page = _dist() / "index.html"
    if not page.is_file():
        raise NotFound("The web client is not built: run `npm run build` in web/ (make run does).")
    # The data mode goes into the page itself, so the "demo data" banner is drawn with the first paint
    # instead of pushing the page down when the first API answer arrives.
    mode = current_app.config["SETTINGS"].data_mode
    html = page.read_text().replace(DATA_MODE_META.format(""), DATA_MODE_META.format(mode))
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"  # revalidated (ETag) on every visit
    response.add_etag()
    response.make_conditional(request)  # 304 for a matching If-None-Match, in place
    return response


@blp.get("/")
def index() -> Response:
    return _index()


@blp.get("/assets/<path:filename>")
def asset(filename: str) -> Response:
    """A hashed build output; the gzip twin written at build time when the client takes it."""
    assets = _dist() / "assets"
    response: Response
    if "gzip" in request.headers.get("Accept-Encoding", "") and (assets / f"{filename}.gz").is_file():
        response = send_from_directory(assets, f"{filename}.gz", max_age=YEAR_S)
        response.headers["Content-Encoding"] = "gzip"
        response.mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    else:
        response = send_from_directory(assets, filename, max_age=YEAR_S)
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = IMMUTABLE
    return response


def _is_client_route() -> bool:
    path = request.path
    return (
        request.method == "GET"
        and not any(path == p.rstrip("/") or path.startswith(p) for p in NOT_THE_APP)
        # a browser navigating asks for text/html by name; `*/*` (curl, API clients) keeps the JSON 404
        and any(mimetype == "text/html" for mimetype, _ in request.accept_mimetypes)
    )


def init_web(app: Flask) -> None:
    app.register_blueprint(blp)

    @app.errorhandler(NotFound)
    def _not_found(error: NotFound) -> Response:
        """No route matched: a page of the app (its router shows the page, or its own "not found")."""
        if request.url_rule is None and _is_client_route():
            try:
                return _index()
            except NotFound:
                pass
        return http_exception_response(error)
