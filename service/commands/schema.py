"""`flask db ...` (migrations) and `flask rollups ...`."""

from __future__ import annotations

from datetime import UTC, datetime

import click
import psycopg
from flask.cli import AppGroup

from jobs.marketplaces import registry
from service.commands import settings as _settings
from service.core import data_mode, migrations, rollups
from service.core.background_jobs import FAILING, background_jobs
from service.core.sql import query

db_cli = AppGroup("db", help="Schema migrations.")
rollups_cli = AppGroup("rollups", help="License-aware rollups (continuous aggregates or hypertables).")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations and changed repeatable SQL, declare the adapters' marketplaces, sync
    rollups, then check the database's data mode against DATA_MODE (a database without simulated data
    takes DATA_MODE=live)."""
    settings = _settings()
    try:
        report = migrations.upgrade(
            settings.database_url,
            settings.migrations_dir,
            settings.sql_dir,
            progress=click.echo,
            marketplaces=registry.marketplaces(settings.env),
        )
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            mode = data_mode.reconcile(conn, settings.data_mode)
    except (migrations.MigrationError, rollups.RollupError, data_mode.DataModeError) as exc:
        raise click.ClickException(str(exc)) from exc
    if not (report.applied or report.repeatables or report.marketplaces or report.rollups):
        click.echo("database is up to date")
    click.echo(f"data mode: {mode}")


@db_cli.command("status")
def db_status() -> None:
    """Show applied and pending migrations."""
    settings = _settings()
    with psycopg.connect(settings.database_url) as conn:
        try:
            state = migrations.status(conn, settings.migrations_dir)
        except migrations.MigrationError as exc:
            raise click.ClickException(str(exc)) from exc
    for name in state.applied:
        click.echo(f"applied  {name}")
    for name in state.pending:
        click.echo(f"pending  {name}")
    click.echo(f"version {state.version or 'none'}; {len(state.pending)} pending")


@rollups_cli.command("list")
def rollups_list() -> None:
    """Show each rollup, how this server implements it, and when it was last filled."""
    with psycopg.connect(_settings().database_url, row_factory=psycopg.rows.dict_row) as conn:
        click.echo(f"server mode: {rollups.server_mode(conn)}")
        for row in conn.execute(query("rollups/definitions")):
            click.echo(
                f"{row['name']:<32} {row['mode']:<24} bucket {row['bucket_width']}  "
                f"refreshed {row['refreshed_at'] or 'never'}"
            )
        failing = [job.job for job in background_jobs(conn) if job.state == FAILING]
        click.echo(
            f"TimescaleDB background jobs failing: {', '.join(failing)} (`flask rollups jobs` says why)"
            if failing
            else "TimescaleDB background jobs: none failing (`flask rollups jobs`)"
        )


@rollups_cli.command("jobs")
def rollups_jobs() -> None:
    """Show TimescaleDB's background jobs (the refresh policies and its own maintenance): last run,
    runs, failures and the last error. Exit 1 when one of them is failing (a refusal for the license
    is `unsupported`, not failing)."""
    with psycopg.connect(_settings().database_url) as conn:
        jobs = background_jobs(conn)
    if not jobs:
        click.echo("no TimescaleDB background jobs")
    for job in jobs:
        click.echo(
            f"{job.job_id:>5} {job.job:<36} {job.state:<12} runs {job.total_runs} failures {job.total_failures}  "
            f"last run {job.last_run_started_at or 'never'}  next {job.next_start or '-'}"
        )
        if job.state != "ok" and job.last_error:
            click.echo(f"      last error ({job.last_error_code}): {job.last_error}")
    failing = [job.job for job in jobs if job.state == FAILING]
    if failing:
        raise click.ClickException(f"failing TimescaleDB background jobs: {', '.join(failing)} (see docs/DBA.md)")


@rollups_cli.command("refresh")
@click.argument("name")
@click.option("--from", "start", type=click.DateTime(), help="Window start (UTC); default unbounded")
@click.option("--to", "end", type=click.DateTime(), help="Window end (UTC); default unbounded")
def rollups_refresh(name: str, start: datetime | None, end: datetime | None) -> None:
    """Recompute the whole buckets of NAME inside [--from, --to)."""
    with psycopg.connect(_settings().database_url, autocommit=True) as conn:
        try:
            rollups.refresh(
                conn, name, start.replace(tzinfo=UTC) if start else None, end.replace(tzinfo=UTC) if end else None
            )
        except rollups.RollupError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"refreshed {name}")
