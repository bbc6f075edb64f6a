"""Marketplace settings from the environment: defaults, per-marketplace overrides, clear errors."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from jobs.marketplaces import registry
from service.core.settings import Env, SettingsError


def _read(environ):
    """Every adapter's settings from `environ`, by the names these tests knew them under."""
    configs = registry.read_configs(Env(environ))
    return SimpleNamespace(tcgplayer=configs["tcgplayer"].api, tcgcsv=configs["tcgplayer"].mirror, ebay=configs["ebay"])


def test_defaults_are_production_urls_and_nothing_is_configured():
    config = _read({})
    assert not config.tcgplayer.configured and not config.ebay.configured and not config.tcgcsv.configured
    assert config.tcgplayer.api_url == "https://api.tcgplayer.com/v1.39.0"
    assert config.ebay.base_url == "https://api.ebay.com" and config.ebay.marketplace_id == "EBAY_US"
    assert config.ebay.http.read_timeout_s == 30 and config.ebay.auto_band == (0.5, 2.0)
    assert "EBAY_CLIENT_SECRET" not in repr(config) and config.ebay.client_secret == ""


def test_shared_and_per_marketplace_limits():
    config = _read(
        {
            "MARKETPLACE_READ_TIMEOUT_S": "7",
            "EBAY_READ_TIMEOUT_S": "3",
            "EBAY_RATE_PER_S": "0.5",
            "EBAY_CLIENT_ID": "id",
            "EBAY_CLIENT_SECRET": "secret",
            "TCGCSV_CATEGORY_IDS": "68, 3",
            "EBAY_AUTO_PRICE_BAND": "0,0",
        }
    )
    assert config.tcgplayer.http.read_timeout_s == 7 and config.ebay.http.read_timeout_s == 3
    assert config.ebay.http.rate_per_s == 0.5 and config.ebay.configured
    assert config.tcgcsv.category_ids == (68, 3) and config.ebay.auto_band == (0, 0)
    assert "secret" not in repr(config)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EBAY_RATE_PER_S": "fast"}, "EBAY_RATE_PER_S must be a number"),
        ({"MARKETPLACE_MAX_ATTEMPTS": "-1"}, "must not be negative"),
        ({"TCGCSV_CATEGORY_IDS": "68,x"}, "TCGCSV_CATEGORY_IDS must be comma-separated integers"),
        ({"EBAY_AUTO_PRICE_BAND": "2,0.5"}, "0 < low < 1 < high"),
        ({"EBAY_AUTO_PRICE_BAND": "half"}, "EBAY_AUTO_PRICE_BAND must be 'low,high'"),
    ],
)
def test_malformed_settings_are_rejected_clearly(env, message):
    with pytest.raises(SettingsError, match=message):
        _read(env)
