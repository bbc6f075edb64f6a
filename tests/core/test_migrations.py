from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
import pytest

from service.core import migrations


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text)
    return path


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    migrations_dir, sql_dir = tmp_path / "migrations", tmp_path / "sql"
    write(migrations_dir, "0001_things.sql", "CREATE TABLE things (id int PRIMARY KEY);")
    write(migrations_dir, "0002_more.sql", "ALTER TABLE things ADD COLUMN label text;")
    write(
        sql_dir / "functions",
        "answer.sql",
        "CREATE OR REPLACE FUNCTION answer() RETURNS int LANGUAGE sql AS 'SELECT 41';",
    )
    return migrations_dir, sql_dir


def upgrade(url: str, dirs: tuple[Path, Path]) -> migrations.Report:
    return migrations.upgrade(url, *dirs, declared_rollups=[], progress=lambda _: None)


def scalar(url: str, sql: str) -> object:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()
        assert row is not None
        return row[0]


def test_the_projects_migrations_apply_to_an_empty_database_and_reapply_as_a_no_op(scratch_db_url, project_root):
    first = migrations.upgrade(scratch_db_url, project_root / "migrations", project_root / "sql")
    assert first.applied[0] == "0001_timescaledb.sql"
    assert scalar(scratch_db_url, "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
    second = migrations.upgrade(scratch_db_url, project_root / "migrations", project_root / "sql")
    assert (second.applied, second.repeatables, second.rollups) == ([], [], [])


def test_upgrade_applies_in_order_once_and_records_checksums(scratch_db_url, dirs):
    report = upgrade(scratch_db_url, dirs)
    assert report.applied == ["0001_things.sql", "0002_more.sql"]
    assert report.repeatables == ["functions/answer.sql"]
    assert scalar(scratch_db_url, "SELECT answer()") == 41
    assert scalar(scratch_db_url, "SELECT count(*) FROM schema_migrations WHERE length(checksum) = 64") == 2
    again = upgrade(scratch_db_url, dirs)
    assert (again.applied, again.repeatables) == ([], [])


def test_a_new_migration_is_applied_on_the_next_run(scratch_db_url, dirs):
    upgrade(scratch_db_url, dirs)
    write(dirs[0], "0003_index.sql", "CREATE INDEX things_label ON things (label);")
    assert upgrade(scratch_db_url, dirs).applied == ["0003_index.sql"]


def test_editing_an_applied_migration_is_a_loud_error(scratch_db_url, dirs):
    upgrade(scratch_db_url, dirs)
    write(dirs[0], "0001_things.sql", "CREATE TABLE things (id bigint PRIMARY KEY);")
    write(dirs[0], "0003_later.sql", "CREATE TABLE later (id int);")
    with pytest.raises(migrations.MigrationError, match=r"0001_things\.sql was edited after it was applied"):
        upgrade(scratch_db_url, dirs)
    # Nothing after the guard ran.
    assert scalar(scratch_db_url, "SELECT to_regclass('later') IS NULL") is True
    with psycopg.connect(scratch_db_url) as conn, pytest.raises(migrations.MigrationError):
        migrations.status(conn, dirs[0])


def test_a_missing_applied_migration_file_is_an_error(scratch_db_url, dirs):
    upgrade(scratch_db_url, dirs)
    (dirs[0] / "0002_more.sql").unlink()
    with pytest.raises(migrations.MigrationError, match="0002_more is applied but its file is missing"):
        upgrade(scratch_db_url, dirs)


def test_a_failing_migration_leaves_nothing_behind(scratch_db_url, dirs):
    write(dirs[0], "0003_broken.sql", "CREATE TABLE half (id int);\nSELECT no_such_function();")
    with pytest.raises(migrations.MigrationError, match=r"0003_broken\.sql failed"):
        upgrade(scratch_db_url, dirs)
    assert scalar(scratch_db_url, "SELECT to_regclass('half') IS NULL") is True
    assert scalar(scratch_db_url, "SELECT max(version) FROM schema_migrations") == "0002"


def test_badly_named_or_duplicate_migration_files_are_rejected(tmp_path):
    write(tmp_path / "a", "1_short.sql", "SELECT 1;")
    with pytest.raises(migrations.MigrationError, match="NNNN_lowercase_name"):
        migrations.discover(tmp_path / "a")
    write(tmp_path / "b", "0001_one.sql", "SELECT 1;")
    write(tmp_path / "b", "0001_two.sql", "SELECT 1;")
    with pytest.raises(migrations.MigrationError, match="share version 0001"):
        migrations.discover(tmp_path / "b")


def test_repeatable_sql_is_reapplied_only_when_its_text_changes(scratch_db_url, dirs):
    upgrade(scratch_db_url, dirs)
    assert upgrade(scratch_db_url, dirs).repeatables == []
    write(
        dirs[1] / "functions",
        "answer.sql",
        "CREATE OR REPLACE FUNCTION answer() RETURNS int LANGUAGE sql AS 'SELECT 42';",
    )
    assert upgrade(scratch_db_url, dirs).repeatables == ["functions/answer.sql"]
    assert scalar(scratch_db_url, "SELECT answer()") == 42


def test_status_lists_pending_migrations(scratch_db_url, dirs):
    with psycopg.connect(scratch_db_url) as conn:
        before = migrations.status(conn, dirs[0])
    assert (before.version, before.pending) == (None, ["0001_things.sql", "0002_more.sql"])
    upgrade(scratch_db_url, dirs)
    write(dirs[0], "0003_next.sql", "SELECT 1;")
    with psycopg.connect(scratch_db_url) as conn:
        after = migrations.status(conn, dirs[0])
    assert (after.version, after.applied, after.pending) == (
        "0002",
        ["0001_things.sql", "0002_more.sql"],
        ["0003_next.sql"],
    )


def test_concurrent_runners_apply_each_migration_exactly_once(scratch_db_url, dirs):
    # A slow migration that also counts its own runs: with the lock, the second runner waits, then
    # finds it applied. Without the lock both would run it (and the second would fail or duplicate).
    write(dirs[0], "0003_slow.sql", "CREATE TABLE runs (n int);\nSELECT pg_sleep(0.5);\nINSERT INTO runs VALUES (1);")
    errors: list[BaseException] = []
    reports: list[migrations.Report] = []

    def run() -> None:
        try:
            reports.append(upgrade(scratch_db_url, dirs))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(len(r.applied) for r in reports) == [0, 0, 3]
    assert scalar(scratch_db_url, "SELECT count(*) FROM runs") == 1


def test_upgrade_waits_while_another_runner_holds_the_lock(scratch_db_url, dirs):
    with psycopg.connect(scratch_db_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [migrations.LOCK_KEY])
        done = threading.Event()
        worker = threading.Thread(target=lambda: (upgrade(scratch_db_url, dirs), done.set()))
        worker.start()
        time.sleep(0.5)
        assert not done.is_set()
        holder.execute("SELECT pg_advisory_unlock(%s)", [migrations.LOCK_KEY])
        worker.join(30)
    assert done.is_set()
    assert scalar(scratch_db_url, "SELECT count(*) FROM schema_migrations") == 2
