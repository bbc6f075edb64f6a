"""Flask CLI groups: `flask --app service <group> <command>`."""

from __future__ import annotations

from flask import Flask, current_app

from service.settings import Settings


def settings() -> Settings:
    configured: Settings = current_app.config["SETTINGS"]
    return configured


def register_cli(app: Flask) -> None:
    from service.commands import ingest, jobs, market, pipeline, schema, users

    for group in (
        schema.db_cli,
        schema.rollups_cli,
        market.catalog_cli,
        market.sim_cli,
        pipeline.pipeline_cli,
        jobs.jobs_cli,
        ingest.ingest_cli,
        users.users_cli,
    ):
        app.cli.add_command(group)
