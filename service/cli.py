"""Flask CLI groups: `flask db ...`, `flask rollups ...`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
import psycopg
from flask import Flask, current_app
from flask.cli import AppGroup
from rq import Queue
from rq_scheduler import Scheduler

from jobs import pipeline, schedule
from jobs.sim import driver
from service import catalog, migrations, rollups
from service.extensions import redis_client
from service.settings import PROJECT_ROOT, Settings
from service.sql import query

DEFAULT_CATALOG = PROJECT_ROOT / "data" / "catalog.csv"

db_cli = AppGroup("db", help="Schema migrations.")
catalog_cli = AppGroup("catalog", help="The product catalog.")
sim_cli = AppGroup("sim", help="The simulated market (the embedded default data source).")
jobs_cli = AppGroup("jobs", help="RQ jobs and the rq-scheduler schedule.")
pipeline_cli = AppGroup("pipeline", help="Rollups, daily metrics, ranks and the market index.")
rollups_cli = AppGroup("rollups", help="License-aware rollups (continuous aggregates or hypertables).")


def _settings() -> Settings:
    settings: Settings = current_app.config["SETTINGS"]
    return settings


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations and changed repeatable SQL, then sync rollups."""
    settings = _settings()
    try:
        report = migrations.upgrade(
            settings.database_url, settings.migrations_dir, settings.sql_dir, progress=click.echo
        )
    except (migrations.MigrationError, rollups.RollupError) as exc:
        raise click.ClickException(str(exc)) from exc
    if not (report.applied or report.repeatables or report.rollups):
        click.echo("database is up to date")


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


@catalog_cli.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=DEFAULT_CATALOG)
def catalog_load(file: Path) -> None:
    """Load the catalog CSV (default: data/catalog.csv). All rows are validated; any error loads nothing."""
    try:
        rows = catalog.parse_csv(file)
    except catalog.CatalogError as exc:
        for problem in exc.problems:
            click.echo(f"{file}: {problem}", err=True)
        raise click.ClickException(f"{len(exc.problems)} problem(s) in {file}; nothing was loaded") from exc
    with psycopg.connect(_settings().database_url) as conn:
        report = catalog.load(conn, rows)
    click.echo(f"catalog: {report.products} products ({report.inserted} new), {report.sources} marketplace sources")


def _product_ids(slugs: str | None) -> list[int] | None:
    if not slugs:
        return None
    wanted = [s.strip() for s in slugs.split(",") if s.strip()]
    with psycopg.connect(_settings().database_url) as conn:
        found: dict[str, int] = dict(
            conn.execute("SELECT slug, id FROM products WHERE slug = ANY(%s)", [wanted]).fetchall()
        )
    missing = [s for s in wanted if s not in found]
    if missing:
        raise click.BadParameter(f"unknown product slug(s): {', '.join(missing)}", param_hint="--products")
    return [found[s] for s in wanted]


@sim_cli.command("backfill")
@click.option("--days", type=click.IntRange(1, 3650), default=90, show_default=True, help="History to simulate")
@click.option("--products", help="Comma-separated product slugs (default: every active product)")
@click.option("--seed", type=int, default=driver.DEFAULT_SEED, show_default=True)
def sim_backfill(days: int, products: str | None, seed: int) -> None:
    """Start the simulated market DAYS ago and run it up to now (continues an existing simulation)."""
    ids = _product_ids(products)
    with click.progressbar(length=1, label="simulating", show_pos=True) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        try:
            report = driver.advance(
                _settings().database_url, days=days, product_ids=ids, seed=seed, kind="sim-backfill", progress=progress
            )
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    written = ", ".join(f"{n} {table}" for table, n in sorted(report.result.written.items()))
    click.echo(
        f"simulated through {report.simulated_through:%Y-%m-%d %H:%M} UTC: {written or 'nothing new'}; "
        f"{report.inferred_sales} inferred sales"
    )


@sim_cli.command("tick")
def sim_tick() -> None:
    """Advance the simulated market to now."""
    try:
        report = driver.advance(_settings().database_url)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"simulated through {report.simulated_through:%Y-%m-%d %H:%M} UTC ({report.steps} steps)")


def _run_pipeline(start: datetime | None, end: datetime | None, *, resummarise: bool) -> None:
    settings = _settings()
    with psycopg.connect(settings.database_url) as conn:
        span = pipeline.observed_span(conn)
        last_computed = conn.execute(query("pipeline/last_computed_day")).fetchone()
    if span is None:
        raise click.ClickException("no observations yet: run `flask sim backfill` or ingest data first")
    # `run` catches up from the last computed day; `recompute` starts from the first observation.
    resume_day = last_computed[0] if last_computed and last_computed[0] and not resummarise else None
    first = start.date() if start else (resume_day or span[0])
    last = end.date() if end else max(span[1], datetime.now(UTC).date())
    if first > last:
        raise click.BadParameter(f"--from {first} is after --to {last}", param_hint="--from")
    stages = [f"rollup:{r.name}" for r in rollups.declared(settings.sql_dir)] + ["metrics", "ranks", "market_index"]
    with click.progressbar(length=len(stages) + resummarise, label=f"pipeline {first}..{last}") as bar:
        report = pipeline.run(
            settings.database_url,
            first,
            last,
            redis_client=redis_client(),
            resummarise=resummarise,
            progress=lambda _stage: bar.update(1),
        )
    for name, seconds in report.seconds.items():
        rows = f" ({report.rows[name]} rows)" if name in report.rows else ""
        click.echo(f"{name:<28} {seconds:8.3f} s{rows}")
    click.echo(f"data version {report.data_version}")


FROM_DAY = click.option(
    "--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First day (default: first observed)"
)
TO_DAY = click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day (default: today, UTC)")


@pipeline_cli.command("run")
@FROM_DAY
@TO_DAY
def pipeline_run(start: datetime | None, end: datetime | None) -> None:
    """Refresh rollups, then compute metrics, ranks and the index for the days [--from, --to]."""
    _run_pipeline(start, end, resummarise=False)


@pipeline_cli.command("recompute")
@FROM_DAY
@TO_DAY
def pipeline_recompute(start: datetime | None, end: datetime | None) -> None:
    """As `run`, after re-summarising snapshots: use after changing settings."""
    _run_pipeline(start, end, resummarise=True)


def _scheduler() -> Scheduler:
    return Scheduler(connection=redis_client(), interval=5)


@jobs_cli.command("list")
def jobs_list() -> None:
    """The declared schedule and what rq-scheduler holds."""
    scheduled = {job.id: job for job in _scheduler().get_jobs()}
    for entry in schedule.SCHEDULE:
        state = "scheduled" if entry.job_id in scheduled else "not scheduled (run `flask jobs schedule`)"
        click.echo(f"{entry.name:<20} {entry.cron:<16} {entry.func:<32} {state}")


@jobs_cli.command("schedule")
def jobs_schedule() -> None:
    """Reconcile rq-scheduler with the declared schedule."""
    changes = schedule.reconcile(_scheduler())
    click.echo(f"created {changes.created}, kept {changes.kept}, cancelled {changes.cancelled}")


@jobs_cli.command("run")
@click.argument("name", type=click.Choice([entry.name for entry in schedule.SCHEDULE]))
def jobs_run(name: str) -> None:
    """Enqueue a scheduled job now."""
    entry = next(e for e in schedule.SCHEDULE if e.name == name)
    job = Queue(entry.queue, connection=redis_client()).enqueue(
        entry.func, job_timeout=entry.timeout, result_ttl=entry.result_ttl, failure_ttl=entry.failure_ttl
    )
    click.echo(f"enqueued {name} as job {job.id}")


@jobs_cli.command("scheduler")
def jobs_scheduler() -> None:
    """Reconcile the schedule, then run rq-scheduler (what `make run` and docker-compose start)."""
    scheduler = _scheduler()
    schedule.reconcile(scheduler)
    scheduler.run()


def register_cli(app: Flask) -> None:
    app.cli.add_command(jobs_cli)
    app.cli.add_command(pipeline_cli)
    app.cli.add_command(db_cli)
    app.cli.add_command(catalog_cli)
    app.cli.add_command(sim_cli)
    app.cli.add_command(rollups_cli)
