"""Flask CLI groups (`flask --app service.app <group> <command>`), registered by service.app."""

from __future__ import annotations

from flask import current_app

from service.core.settings import Settings


def settings() -> Settings:
    configured: Settings = current_app.config["SETTINGS"]
    return configured
