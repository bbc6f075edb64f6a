from __future__ import annotations

import pytest

from service.settings import Settings, SettingsError


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
    ],
)
def test_bad_settings_fail_at_start_with_the_variable_named(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_secrets_stay_out_of_reprs():
    settings = Settings.from_env({"BOXPRO_ENV": "production", "JWT_SECRET_KEY": "s" * 40})
    assert "sss" not in repr(settings)
