"""The settings table refuses values outside each setting's declared bounds (migration 0021): DBAs
change settings with plain SQL, so a mistake is stopped where it is typed, and changes nothing."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

REFUSED = [
    ("record_retention_days", -5),  # would have deleted every finished record
    ("record_retention_days", 0),
    ("record_retention_days", 2.5),
    ("ema_short_days", 0),  # alpha = 2 / (N + 1) of a zero-day EMA
    ("ema_long_days", 7.5),
    ("max_carry_days", -1),
    ("max_carry_days", 400),
    ("near_floor_band", -0.1),
    ("max_sale_premium", 0.5),  # a withdrawn listing priced below the floor
    ("raw_payload_retention_days", 0),
    ("movers_min_listings", 1.5),
    ("days_to_plus_20pct_cap", 0),
]


def test_every_setting_declares_its_bounds(db):
    rows = db.execute("SELECT key, value, min_value, max_value, whole FROM settings").fetchall()
    assert len(rows) >= 12
    for row in rows:
        assert row["min_value"] is not None, row["key"]
        assert row["min_value"] <= row["value"], row["key"]  # the defaults are within their own bounds
        assert row["max_value"] is None or row["value"] <= row["max_value"], row["key"]


@pytest.mark.parametrize(("key", "value"), REFUSED)
def test_a_value_out_of_bounds_is_refused_and_changes_nothing(db, key, value):
    before = db.execute("SELECT value FROM settings WHERE key = %s", [key]).fetchone()["value"]
    requests = db.execute("SELECT count(*) AS n FROM pipeline_requests").fetchone()["n"]
    with pytest.raises(psycopg.errors.CheckViolation, match="settings_value_in_bounds"):
        db.execute("UPDATE settings SET value = %s WHERE key = %s", [value, key])
    assert db.execute("SELECT value FROM settings WHERE key = %s", [key]).fetchone()["value"] == before
    assert db.execute("SELECT count(*) AS n FROM pipeline_requests").fetchone()["n"] == requests


def test_values_on_the_bounds_are_accepted(db):
    try:
        db.execute("UPDATE settings SET value = 0 WHERE key = 'max_snapshot_gap_hours'")  # 0: diff no pair
        db.execute("UPDATE settings SET value = 365 WHERE key = 'max_carry_days'")
        db.execute("UPDATE settings SET value = 1 WHERE key = 'record_retention_days'")
        values = {r["key"]: r["value"] for r in db.execute("SELECT key, value FROM settings").fetchall()}
        assert (values["max_snapshot_gap_hours"], values["max_carry_days"], values["record_retention_days"]) == (
            Decimal(0),
            Decimal(365),
            Decimal(1),
        )
    finally:
        db.execute("UPDATE settings SET value = 48 WHERE key = 'max_snapshot_gap_hours'")
        db.execute("UPDATE settings SET value = 3 WHERE key = 'max_carry_days'")
        db.execute("UPDATE settings SET value = 90 WHERE key = 'record_retention_days'")


def test_a_new_setting_must_declare_its_bounds(db):
    with pytest.raises(psycopg.errors.NotNullViolation, match="min_value"):
        db.execute("INSERT INTO settings (key, value, description) VALUES ('forgotten', 1, 'no bounds')")
