"""`flask catalog ...` and `flask sim ...` (the simulated market)."""

from __future__ import annotations

from pathlib import Path

import click
import psycopg
from flask.cli import AppGroup

from jobs.sim import driver
from service.commands import settings as _settings
from service.core import catalog, data_mode
from service.core.settings import PROJECT_ROOT

DEFAULT_CATALOG = PROJECT_ROOT / "data" / "catalog.csv"
catalog_cli = AppGroup("catalog", help="The product catalog.")
sim_cli = AppGroup("sim", help="The simulated market (the embedded default data source).")


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
        except (ValueError, data_mode.DataModeError) as exc:
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
    except (ValueError, data_mode.DataModeError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"simulated through {report.simulated_through:%Y-%m-%d %H:%M} UTC ({report.steps} steps)")
