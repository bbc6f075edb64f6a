from __future__ import annotations


def test_db_upgrade_is_a_no_op_on_a_migrated_database(runner, db):  # db: in demo mode, as DATA_MODE says
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


def test_db_status_lists_the_applied_migrations(runner):
    result = runner.invoke(args=["db", "status"])
    assert result.exit_code == 0, result.output
    assert "applied  0001_timescaledb.sql" in result.output
    assert "0 pending" in result.output


def test_rollups_list_names_the_server_mode(runner):
    result = runner.invoke(args=["rollups", "list"])
    assert result.exit_code == 0, result.output
    assert "server mode:" in result.output


def test_refreshing_an_unknown_rollup_is_a_clear_error(runner):
    result = runner.invoke(args=["rollups", "refresh", "no_such_rollup", "--from", "2026-01-01"])
    assert result.exit_code != 0
    assert "no rollup named 'no_such_rollup'" in result.output


def test_a_malformed_date_is_rejected(runner):
    result = runner.invoke(args=["rollups", "refresh", "x", "--from", "yesterday-ish"])
    assert result.exit_code == 2
    assert "Invalid value for '--from'" in result.output
