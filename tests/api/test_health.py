from __future__ import annotations

import shutil

import pytest

from service.app import create_app
from service.core.cache import bump_data_version
from tests.helpers import make_settings


def test_liveness(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readiness_reports_timescaledb_license_rollup_mode_and_migrations(client, db, redis_db):
    response = client.get("/health/ready")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "ok" and body["failing"] == []
    database = body["checks"]["database"]
    assert database["timescaledb_version"].startswith("2.")
    assert database["timescaledb_license"] in {"apache", "timescale"}
    expected_mode = (
        "continuous_aggregate" if database["timescaledb_license"] == "timescale" else "materialized_hypertable"
    )
    assert database["rollup_mode"] == expected_mode
    assert database["migration_version"] == max(p.name[:4] for p in make_settings().migrations_dir.glob("*.sql"))
    assert database["pending_migrations"] == []
    assert body["checks"]["redis"] == {"ok": True}


def test_readiness_is_503_naming_redis_when_redis_is_unreachable(db):
    app = create_app(make_settings(redis_url="redis://127.0.0.1:1/0"))
    response = app.test_client().get("/health/ready")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["failing"] == ["redis"]
    assert "ConnectionError" in body["checks"]["redis"]["error"]
    assert body["checks"]["database"]["ok"] is True


def test_readiness_is_503_naming_the_database_when_it_is_unreachable(redis_db):
    app = create_app(make_settings(database_url="postgresql://postgres@127.0.0.1:1/boxpro"))
    response = app.test_client().get("/health/ready")
    assert response.status_code == 503
    body = response.get_json()
    assert (body["status"], body["failing"]) == ("unavailable", ["database"])
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["database"]["error"]
    assert body["checks"]["redis"]["ok"] is True
    # What is read from the database is left out: a probe does not wait for the pool again and again.
    assert set(body["checks"]) == {"database", "redis"}
    app.extensions["boxpro.db"].close()


def test_readiness_is_503_when_migrations_are_pending(db, redis_db, tmp_path, project_root):
    migrations_dir = tmp_path / "migrations"
    shutil.copytree(project_root / "migrations", migrations_dir)
    (migrations_dir / "9999_future.sql").write_text("SELECT 1;")
    app = create_app(make_settings(migrations_dir=migrations_dir))
    response = app.test_client().get("/health/ready")
    assert response.status_code == 503
    database = response.get_json()["checks"]["database"]
    assert database["pending_migrations"] == ["9999_future.sql"]
    assert "flask db upgrade" in database["error"]
    app.extensions["boxpro.db"].close()


@pytest.mark.parametrize(
    ("database_mode", "setting", "advice"),
    [
        ("live", "demo", "Set DATA_MODE=live"),  # `flask db upgrade` refuses here: a live database stays live
        ("demo", "live", "flask --app service.app data go-live"),
    ],
)
def test_readiness_names_what_fixes_a_data_mode_mismatch(db, redis_db, database_mode, setting, advice):
    db.execute("UPDATE data_mode SET mode = %s", [database_mode])
    app = create_app(make_settings(data_mode=setting))
    try:
        database = app.test_client().get("/health/ready").get_json()["checks"]["database"]
    finally:
        app.extensions["boxpro.db"].close()
        db.execute("UPDATE data_mode SET mode = 'demo'")
    assert database["ok"] is False and advice in database["error"], database["error"]
    if database_mode == "live":
        assert "db upgrade" not in database["error"]


def test_readiness_tells_how_fresh_the_metrics_are(client, db, redis_db, products):
    empty = client.get("/health/ready").get_json()["checks"]["data"]
    assert empty == {"ok": True, "latest_metrics_day": None, "metrics_updated_at": None, "metrics_age_seconds": None}
    db.execute(
        """INSERT INTO product_metrics_daily (day, product_id, history_days, units_sold, sales_count, volume_usd,
                                              volume_24h, units_added, insufficient_history, low_liquidity, stale)
           VALUES ('2026-03-01', %s, 1, 0, 0, 0, 0, 0, true, true, false)""",
        [products[0]],
    )
    bump_data_version(redis_db)
    data = client.get("/health/ready").get_json()["checks"]["data"]
    assert data["latest_metrics_day"] == "2026-03-01"
    assert 0 <= data["metrics_age_seconds"] < 60
