"""The interactive API docs without internet: Swagger UI at /docs and ReDoc at /redoc load their
scripts and styles from this service, out of a pinned PyPI package (drf-spectacular-sidecar, which
ships swagger-ui-dist and ReDoc's standalone bundle as plain files; see requirements.txt).

The package's version is part of the asset URLs, so browsers may keep the files for a year: a new
pin is a new URL. The package is located, never imported (importing it would import Django).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

from flask import Blueprint, Flask

PACKAGE = "drf_spectacular_sidecar"
VERSION = importlib.metadata.version("drf-spectacular-sidecar")
ASSETS_URL = f"/docs/assets/{VERSION}"
SWAGGER_UI_URL = f"{ASSETS_URL}/swagger-ui-dist/"
REDOC_URL = f"{ASSETS_URL}/redoc/bundles/redoc.standalone.js"
YEAR_S = 365 * 24 * 3600


def assets_folder() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{PACKAGE} is not installed (requirements.txt)")
    return Path(next(iter(spec.submodule_search_locations))) / "static" / PACKAGE


class _VersionedAssets(Blueprint):
    def get_send_file_max_age(self, filename: str | None) -> int | None:
        return YEAR_S  # the URL changes with the package's version


def init_docs(app: Flask) -> None:
    app.register_blueprint(
        _VersionedAssets("docs", __name__, static_folder=assets_folder(), static_url_path=ASSETS_URL)
    )
