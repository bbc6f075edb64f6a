from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.commands.config import example, read_all
from service.core.settings import PROJECT_ROOT, Env, Settings, SettingsError


def test_defaults_match_the_private_services():
    settings = Settings.from_env({})
    assert settings.database_url == "postgresql://postgres@127.0.0.1:55432/boxpro"
    assert settings.redis_url == "redis://127.0.0.1:56379/0"
    assert not settings.is_production


def test_values_come_from_the_environment():
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://db/x",
            "REDIS_URL": "redis://r/1",
            "DB_POOL_MAX_SIZE": "20",
            "LOG_LEVEL": "debug",
        }
    )
    assert (settings.database_url, settings.redis_url, settings.db_pool_max_size, settings.log_level) == (
        "postgresql://db/x",
        "redis://r/1",
        20,
        "DEBUG",
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DB_POOL_MAX_SIZE": "many"}, "DB_POOL_MAX_SIZE must be an integer"),
        ({"DB_POOL_MIN_SIZE": "9", "DB_POOL_MAX_SIZE": "2"}, "DB_POOL_MIN_SIZE"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"BOXPRO_ENV": "production"}, "JWT_SECRET_KEY"),
        ({"BOXPRO_ENV": "production", "JWT_SECRET_KEY": "short"}, "JWT_SECRET_KEY"),
        ({"DATA_MODE": "staging"}, "DATA_MODE must be one of demo, live"),
        ({"PIPELINE_DEBOUNCE_S": "-1"}, "PIPELINE_DEBOUNCE_S must not be negative"),
        ({"DB_POOL_TIMEOUT_S": "soon"}, "DB_POOL_TIMEOUT_S must be a number"),
        ({"FETCH_RETRY_S": "30,soon"}, "FETCH_RETRY_S must be whole seconds"),
        ({"FETCH_RETRY_S": "30,-5"}, "FETCH_RETRY_S must not be negative"),
    ],
)
def test_bad_settings_fail_at_start_with_the_variable_named(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_secrets_stay_out_of_reprs():
    settings = Settings.from_env({"BOXPRO_ENV": "production", "JWT_SECRET_KEY": "s" * 40})
    assert "sss" not in repr(settings)


@pytest.mark.parametrize("name", ["DB_POOL_MAX_SIZE", "EBAY_BURST", "EBAY_PAGE_LIMIT"])
def test_an_integer_setting_refuses_a_fraction_instead_of_truncating_it(name):
    with pytest.raises(SettingsError, match=f"{name} must be an integer, got '3.5'"):
        read_all(Env({name: "3.5"}))


def test_env_example_lists_every_variable_the_code_reads():
    """.env.example is generated (`flask settings example`); regenerate it when this fails."""
    assert (PROJECT_ROOT / ".env.example").read_text() == example()
    listed = example()
    for name in ("RESPONSE_CACHE", "METRICS_TOKEN", "WEBHOOK_ALLOW_PRIVATE", "EBAY_CLIENT_ID", "TCGCSV_USER_AGENT"):
        assert f"# {name}=" in listed


def test_settings_check_names_a_bad_value(runner, monkeypatch):
    monkeypatch.setenv("EBAY_RATE_PER_S", "fast")
    result = runner.invoke(args=["settings", "check"])
    assert result.exit_code == 1 and "EBAY_RATE_PER_S must be a number" in result.output
    monkeypatch.setenv("EBAY_RATE_PER_S", "1.5")
    monkeypatch.setenv("EBAY_CLIENT_SECRET", "hush-hush")
    result = runner.invoke(args=["settings", "check"])
    assert result.exit_code == 0 and "EBAY_RATE_PER_S=1.5" in result.output
    assert "hush-hush" not in result.output and "EBAY_CLIENT_SECRET=(set)" in result.output


def test_fetch_retries_are_pauses_in_seconds():
    assert Settings.from_env({}).fetch_retry_s == (30, 120, 600)
    assert Settings.from_env({"FETCH_RETRY_S": "1, 2"}).fetch_retry_s == (1, 2)


def test_settings_check_lists_every_bad_value_without_a_traceback(tmp_path):
    """`flask settings check` is what an operator runs when something is wrong: the app it belongs to
    must not fail to load first (issue 19: a 38-line traceback for RATE_LIMIT_DEFAULT=abc)."""
    bad = {"RATE_LIMIT_DEFAULT": "abc", "DB_POOL_MAX_SIZE": "many", "EBAY_RATE_PER_S": "fast", "LOG_LEVEL": "LOUD"}
    env = {**os.environ, **bad}
    env.pop("FLASK_APP", None)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "flask"), "--app", "service.app", "settings", "check"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    for name in bad:
        assert name in output, f"{name} not named in:\n{output}"
    assert "a rate looks like 300/minute, got 'abc'" in output
    assert len(output.splitlines()) <= len(bad) + 2, output
