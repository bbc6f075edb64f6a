"""`flask data ...`: the data mode (demo or live) and a deployment's first start."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
import psycopg
from flask.cli import AppGroup

from jobs import pipeline
from service.commands import settings as _settings
from service.commands.market import DEFAULT_CATALOG, catalog_load, sim_backfill
from service.commands.pipeline import pipeline_run
from service.commands.schema import db_upgrade
from service.core import data_mode, rollups
from service.core.cache import bump_data_version
from service.extensions import redis_client

data_cli = AppGroup("data", help="The data mode (demo: the simulated market; live: real marketplaces only).")


@data_cli.command("status")
def data_status() -> None:
    """The database's data mode, DATA_MODE, and how many simulated rows the database holds."""
    with psycopg.connect(_settings().database_url) as conn:
        mode, simulated = data_mode.current(conn), data_mode.simulated_rows(conn)
    click.echo(f"database: {mode}; DATA_MODE: {_settings().data_mode}; simulated rows: {simulated}")


@data_cli.command("init")
@click.option("--catalog", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=DEFAULT_CATALOG)
@click.option("--backfill-days", type=click.IntRange(1, 3650), default=90, show_default=True, help="Demo only")
@click.pass_context
def data_init(ctx: click.Context, catalog: Path, backfill_days: int) -> None:
    """Everything a deployment needs before its processes start, and safe to repeat: migrate, load the
    catalog, and in demo mode simulate BACKFILL_DAYS of history (later: catch up to now) and compute it.
    A live deployment's data comes from its scheduled fetches."""
    ctx.invoke(db_upgrade)
    ctx.invoke(catalog_load, file=catalog)
    if _settings().data_mode == data_mode.DEMO:
        ctx.invoke(sim_backfill, days=backfill_days)
        ctx.invoke(pipeline_run)


@data_cli.command("go-live")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def data_go_live(yes: bool) -> None:
    """Make a demo database live: delete every simulated observation, source and computed metric, then
    recompute from the real observations (if any). Run it once, then set DATA_MODE=live everywhere."""
    settings = _settings()
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        if data_mode.current(conn) == data_mode.LIVE:
            click.echo("the database is live already")
            return
        if not yes:
            rows = data_mode.go_live_rows(conn)
            click.echo(f"This deletes {sum(rows.values()):,} rows: {_by_table(rows)}.")
            click.confirm("Delete them, make the database live and recompute from the real observations?", abort=True)
        deleted = data_mode.go_live(conn)
        click.echo(f"deleted {_by_table(deleted)}")
        declared = rollups.declared(settings.sql_dir)
        with click.progressbar(declared, label="rollups", item_show_func=lambda r: r.name if r else None) as bar:
            for rollup in bar:  # every bucket: the simulated ones must go from the rollups too
                rollups.refresh(conn, rollup.name, None, None)
        span = pipeline.observed_span(conn)
    if span is None:  # nothing to recompute; cached answers must still go (they were simulated)
        bump_data_version(redis_client())
        click.echo("no real observations yet: the scheduled fetches will bring them")
    else:
        last = max(span[1], datetime.now(UTC).date())
        names = pipeline.stages()
        with click.progressbar(length=len(names), label=f"pipeline {span[0]}..{last}") as bar:
            pipeline.run(
                settings.database_url, span[0], last, redis_client=redis_client(), progress=lambda _: bar.update(1)
            )
    click.echo("the database is live: set DATA_MODE=live for every process, then restart them")


def _by_table(rows: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {table}" for table, n in rows.items() if n) or "nothing"
