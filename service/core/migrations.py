"""Schema migrations: ordered SQL files in migrations/, plus repeatable SQL in sql/.

- `migrations/NNNN_name.sql` run once each, in order, each in its own transaction together with
  the row that records it (version, name, checksum). Editing a file after it was applied is a loud
  error: write a new migration instead.
- Repeatable SQL (functions and views under sql/functions and sql/views) is re-applied whenever
  its text changes. `{metric_columns}` in it stands for the public metric columns of the catalogue
  (service/core/metrics.py), so the shared view does not list them a second time; the text that
  counts is the filled-in one, so a change to the catalogue re-applies the view.
- Marketplaces the adapters declare (service/core/marketplaces.py) are written next: inserted, or
  updated to match their declaration.
- Rollups (service/core/rollups.py) are synchronised last: created, or re-created when their definition
  changed, and then filled.
- Everything runs under one PostgreSQL advisory lock, so concurrent runners (several containers
  starting at once) apply each migration exactly once.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from service.core import metrics, rollups
from service.core.marketplaces import Marketplace, declare
from service.core.sql import query

log = logging.getLogger(__name__)

# pg_advisory_lock key shared by every migration runner ("boxpro" in ASCII, truncated to bigint).
LOCK_KEY = 0x626F7870726F
REPEATABLE_DIRS = ("functions", "views")
_MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    pass


def checksum(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return checksum(self.sql)

    @property
    def filename(self) -> str:
        return f"{self.version}_{self.name}.sql"


@dataclass
class Report:
    applied: list[str] = field(default_factory=list)
    repeatables: list[str] = field(default_factory=list)
    marketplaces: list[str] = field(default_factory=list)
    rollups: list[str] = field(default_factory=list)


def discover(migrations_dir: Path) -> list[Migration]:
    found: dict[str, Migration] = {}
    for path in sorted(migrations_dir.glob("*.sql")):
        match = _MIGRATION_FILE.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_lowercase_name.sql")
        version, name = match.groups()
        if version in found:
            raise MigrationError(f"two migrations share version {version}: {found[version].filename}, {path.name}")
        found[version] = Migration(version, name, path.read_text())
    return list(found.values())


def repeatable_files(sql_dir: Path) -> list[Path]:
    files: list[Path] = []
    for sub in REPEATABLE_DIRS:
        files.extend(sorted((sql_dir / sub).glob("*.sql")))
    return files


def render(text: str) -> str:
    """Repeatable SQL as it is applied: the catalogue's metric columns filled in."""
    return text.replace("{metric_columns}", metrics.view_columns())


def _check_applied(migrations: list[Migration], applied: dict[str, dict]) -> None:
    by_version = {m.version: m for m in migrations}
    for version, row in applied.items():
        migration = by_version.get(version)
        if migration is None:
            raise MigrationError(f"migration {version}_{row['name']} is applied but its file is missing")
        if migration.checksum != row["checksum"]:
            raise MigrationError(
                f"migration {migration.filename} was edited after it was applied "
                f"(checksum {row['checksum'][:12]} in the database, {migration.checksum[:12]} on disk); "
                "restore it and write a new migration instead"
            )


def upgrade(
    conninfo: str,
    migrations_dir: Path,
    sql_dir: Path,
    declared_rollups: list[rollups.Rollup] | None = None,
    progress: Callable[[str], None] = log.info,
    marketplaces: Sequence[Marketplace] = (),
) -> Report:
    """Bring the database to the latest schema, and its `marketplaces` rows to what the adapters
    declare (`marketplaces`: the caller passes them, the core knows no adapter). Safe to run
    concurrently and repeatedly."""
    migrations = discover(migrations_dir)
    report = Report()
    with psycopg.connect(conninfo, autocommit=True, row_factory=psycopg.rows.dict_row) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        try:
            with conn.transaction():
                conn.execute(query("migrations/bootstrap"))
            applied = {row["version"]: row for row in conn.execute(query("migrations/applied"))}
            _check_applied(migrations, applied)
            for migration in migrations:
                if migration.version in applied:
                    continue
                progress(f"applying migration {migration.filename}")
                try:
                    with conn.transaction():
                        conn.execute(migration.sql.encode())
                        conn.execute(
                            query("migrations/record"),
                            {"version": migration.version, "name": migration.name, "checksum": migration.checksum},
                        )
                except psycopg.Error as exc:
                    raise MigrationError(f"migration {migration.filename} failed: {exc}") from exc
                report.applied.append(migration.filename)

            known = {row["path"]: row["checksum"] for row in conn.execute(query("migrations/repeatables"))}
            for path in repeatable_files(sql_dir):
                text = render(path.read_text())
                relative = path.relative_to(sql_dir).as_posix()
                if known.get(relative) == checksum(text):
                    continue
                progress(f"applying {relative}")
                try:
                    with conn.transaction():
                        conn.execute(text.encode())
                        conn.execute(
                            query("migrations/record_repeatable"), {"path": relative, "checksum": checksum(text)}
                        )
                except psycopg.Error as exc:
                    raise MigrationError(f"{relative} failed: {exc}") from exc
                report.repeatables.append(relative)

            try:
                with conn.transaction():
                    report.marketplaces = declare(conn, marketplaces)
            except psycopg.Error as exc:
                raise MigrationError(f"declaring the adapters' marketplaces failed: {exc}") from exc
            for code in report.marketplaces:
                progress(f"declared marketplace {code}")

            report.rollups = rollups.sync(
                conn, rollups.declared(sql_dir) if declared_rollups is None else declared_rollups, progress
            )
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
    return report


@dataclass(frozen=True)
class Status:
    version: str | None
    applied: list[str]
    pending: list[str]


def status(conn: psycopg.Connection[Any], migrations_dir: Path) -> Status:
    """What is applied and what is pending. Raises MigrationError when an applied file was edited."""
    migrations = discover(migrations_dir)
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    if not cur.execute(query("migrations/is_bootstrapped")).fetchone()["bootstrapped"]:  # type: ignore[index]
        return Status(None, [], [m.filename for m in migrations])
    applied = {row["version"]: row for row in cur.execute(query("migrations/applied"))}
    _check_applied(migrations, applied)
    return Status(
        version=max(applied) if applied else None,
        applied=[m.filename for m in migrations if m.version in applied],
        pending=[m.filename for m in migrations if m.version not in applied],
    )
