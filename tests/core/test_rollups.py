"""The license-aware rollup mechanism, proven with a demo rollup over a demo hypertable, and the
continuous-aggregate branch's statements, proven on both editions.

On the Apache edition the demo tests exercise the materialized-hypertable branch; pointed at a server
with the Timescale License (TEST_DATABASE_URL) the same tests exercise the continuous-aggregate branch.
The Apache edition cannot run the continuous-aggregate branch, but it refuses each of its well-formed
statements for the license and a malformed one for its own reason: the `apache_*` tests send them all.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from jobs import pipeline
from jobs.marketplaces import registry
from jobs.sim import driver
from service.core import migrations, rollups
from service.core.settings import PROJECT_ROOT
from tests.helpers import MARKET_NOW, insert_products, wait_until_blocked

T0 = datetime(2026, 3, 1, tzinfo=UTC)
DEMO_SELECT = """
SELECT time_bucket('1 hour', observed_at) AS bucket, sensor,
       count(*) AS readings, sum(value) AS total, min(value) AS low, max(value) AS high
FROM demo_readings
GROUP BY 1, 2
"""
DEMO = rollups.Rollup(
    name="demo_readings_hourly",
    select=DEMO_SELECT,
    bucket_width="1 hour",
    refresh_start_offset="1 day",
    refresh_end_offset="1 hour",
    index=("sensor",),
)
DIRECT = f"SELECT * FROM ({DEMO_SELECT}) AS d ORDER BY bucket, sensor"
ROLLUP = "SELECT bucket, sensor, readings, total, low, high FROM demo_readings_hourly ORDER BY bucket, sensor"
REAL = rollups.declared(PROJECT_ROOT / "sql")
MARKETPLACES = registry.marketplaces()
LICENSE_REFUSAL = 'not supported under the current "apache" license'


@pytest.fixture
def conn(scratch_db_url: str, project_root: Path):
    migrations.upgrade(scratch_db_url, project_root / "migrations", project_root / "sql", declared_rollups=[])
    with psycopg.connect(scratch_db_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE demo_readings (observed_at timestamptz NOT NULL, sensor int NOT NULL, value numeric NOT NULL)"
        )
        conn.execute("SELECT create_hypertable('demo_readings', by_range('observed_at', interval '1 day'))")
        yield conn


def insert(conn: psycopg.Connection, rows: list[tuple[datetime, int, str]]) -> None:
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO demo_readings VALUES (%s, %s, %s)", rows)


def seed(conn: psycopg.Connection) -> None:
    """Readings every 20 minutes for 12 hours, three sensors."""
    insert(
        conn, [(T0 + timedelta(minutes=20 * i), s, str(Decimal(i * 3 + s) / 4)) for i in range(36) for s in (1, 2, 3)]
    )


def rows(conn: psycopg.Connection, sql: str, lo: datetime | None = None, hi: datetime | None = None) -> list[tuple]:
    result = conn.execute(sql).fetchall()
    return [r for r in result if (lo is None or r[0] >= lo) and (hi is None or r[0] < hi)]


def test_sync_creates_the_object_this_servers_license_calls_for(conn):
    assert rollups.sync(conn, [DEMO], progress=lambda _: None) == ["demo_readings_hourly"]
    mode = rollups.server_mode(conn)
    license_ = conn.execute("SHOW timescaledb.license").fetchone()[0]
    assert mode == ("continuous_aggregate" if license_ == "timescale" else "materialized_hypertable")
    registered = conn.execute("SELECT mode, needs_refresh, bucket_width FROM rollup_definitions").fetchall()
    assert registered == [(mode, False, timedelta(hours=1))]
    catalog = {
        "materialized_hypertable": "SELECT count(*) FROM timescaledb_information.hypertables"
        " WHERE hypertable_name = %s",
        "continuous_aggregate": "SELECT count(*) FROM timescaledb_information.continuous_aggregates"
        " WHERE view_name = %s",
    }[mode]
    assert conn.execute(catalog, [DEMO.name]).fetchone()[0] == 1
    index = conn.execute(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'demo_readings_hourly' AND indexdef LIKE '%sensor%'"
    ).fetchall()
    assert len(index) == 1 or mode == "continuous_aggregate"


def test_a_new_rollup_is_filled_from_existing_rows(conn):
    seed(conn)
    rollups.sync(conn, [DEMO], progress=lambda _: None)
    assert rows(conn, ROLLUP) == rows(conn, DIRECT)
    assert len(rows(conn, ROLLUP)) == 36


def test_refresh_matches_a_direct_group_by_after_inserts_updates_deletes_and_late_rows(conn):
    rollups.sync(conn, [DEMO], progress=lambda _: None)
    seed(conn)
    rollups.refresh(conn, DEMO.name, T0, T0 + timedelta(hours=12))
    assert rows(conn, ROLLUP) == rows(conn, DIRECT)

    conn.execute(
        "UPDATE demo_readings SET value = value * 10 WHERE sensor = 2 AND observed_at < %s", [T0 + timedelta(hours=3)]
    )
    conn.execute(
        "DELETE FROM demo_readings WHERE sensor = 3 AND observed_at >= %s AND observed_at < %s",
        [T0 + timedelta(hours=5), T0 + timedelta(hours=6)],
    )
    insert(
        conn, [(T0 + timedelta(hours=1, minutes=5), 1, "1000"), (T0 + timedelta(hours=7, minutes=59), 4, "7")]
    )  # late rows
    rollups.refresh(conn, DEMO.name, T0, T0 + timedelta(hours=12))
    assert rows(conn, ROLLUP) == rows(conn, DIRECT)
    assert not any(r[0] == T0 + timedelta(hours=5) and r[1] == 3 for r in rows(conn, ROLLUP))


def test_concurrent_refreshes_of_one_window_leave_each_bucket_once(conn, scratch_db_url):
    # Two refreshes of the same window at once (the pipeline and an admin's recompute, say). On the
    # Apache edition each deletes the window's buckets and inserts them again: without taking turns,
    # the second's DELETE does not see the first's new rows, and its INSERT doubles every bucket.
    rollups.sync(conn, [DEMO], progress=lambda _: None)
    seed(conn)
    window = (DEMO.name, T0, T0 + timedelta(hours=12))
    with psycopg.connect(scratch_db_url, autocommit=True) as other:
        second = threading.Thread(target=rollups.refresh, args=(other, *window))
        if rollups.server_mode(conn) == rollups.CONTINUOUS_AGGREGATE:
            # A continuous aggregate refreshes outside any transaction, so the first cannot be held
            # open: both are started at once, and TimescaleDB orders them.
            second.start()
            rollups.refresh(conn, *window)
        else:
            with conn.transaction():  # the first refresh, held open until the second waits on it
                rollups.refresh(conn, *window)
                second.start()
                wait_until_blocked(scratch_db_url, second.is_alive, pid=other.info.backend_pid)
                assert second.is_alive()
        second.join(timeout=30)
    assert not second.is_alive()
    assert rows(conn, ROLLUP) == rows(conn, DIRECT)


def test_refresh_leaves_buckets_outside_the_window_untouched(conn):
    seed(conn)
    rollups.sync(conn, [DEMO], progress=lambda _: None)
    before = rows(conn, ROLLUP)
    conn.execute("UPDATE demo_readings SET value = value + 100")
    # A window that does not start on a bucket boundary: only whole buckets inside it are recomputed.
    lo, hi = T0 + timedelta(hours=4, minutes=30), T0 + timedelta(hours=8)
    rollups.refresh(conn, DEMO.name, lo, hi)
    inside_lo = T0 + timedelta(hours=5)
    after = rows(conn, ROLLUP)
    assert rows(conn, ROLLUP, inside_lo, hi) == rows(conn, DIRECT, inside_lo, hi)
    assert rows(conn, ROLLUP, None, inside_lo) == [r for r in before if r[0] < inside_lo]
    assert rows(conn, ROLLUP, hi, None) == [r for r in before if r[0] >= hi]
    assert after != before


def test_a_window_smaller_than_a_bucket_changes_nothing(conn):
    seed(conn)
    rollups.sync(conn, [DEMO], progress=lambda _: None)
    before = rows(conn, ROLLUP)
    conn.execute("UPDATE demo_readings SET value = value + 1")
    rollups.refresh(conn, DEMO.name, T0 + timedelta(minutes=10), T0 + timedelta(minutes=50))
    assert rows(conn, ROLLUP) == before


def test_an_unchanged_declaration_is_kept_and_a_changed_one_is_recreated_and_refilled(conn):
    seed(conn)
    rollups.sync(conn, [DEMO], progress=lambda _: None)
    defined_at = conn.execute("SELECT defined_at FROM rollup_definitions").fetchone()[0]
    assert rollups.sync(conn, [DEMO], progress=lambda _: None) == []
    assert conn.execute("SELECT defined_at FROM rollup_definitions").fetchone()[0] == defined_at

    changed = rollups.Rollup(
        name=DEMO.name,
        bucket_width="2 hours",
        refresh_start_offset="1 day",
        select="SELECT time_bucket('2 hours', observed_at) AS bucket, sensor, count(*) AS readings"
        " FROM demo_readings GROUP BY 1, 2",
    )
    assert rollups.sync(conn, [changed], progress=lambda _: None) == [DEMO.name]
    assert conn.execute("SELECT sum(readings) FROM demo_readings_hourly").fetchone()[0] == 108
    assert conn.execute("SELECT count(*) FROM demo_readings_hourly").fetchone()[0] == 18


def test_a_rollup_no_longer_declared_is_dropped(conn):
    rollups.sync(conn, [DEMO], progress=lambda _: None)
    rollups.sync(conn, [], progress=lambda _: None)
    assert conn.execute("SELECT to_regclass('demo_readings_hourly')").fetchone()[0] is None
    assert conn.execute("SELECT count(*) FROM rollup_definitions").fetchone()[0] == 0


def test_the_policy_window_refresh_covers_what_a_refresh_policy_would(conn):
    seed(conn)
    rollups.sync(conn, [DEMO], progress=lambda _: None)
    conn.execute("UPDATE demo_readings SET value = value + 5")
    now = T0 + timedelta(hours=10, minutes=15)  # policy window: [now - 1 day, now - 1 hour)
    rollups.refresh_policy_window(conn, DEMO, now)
    assert rows(conn, ROLLUP, None, T0 + timedelta(hours=9)) == rows(conn, DIRECT, None, T0 + timedelta(hours=9))
    assert rows(conn, ROLLUP, T0 + timedelta(hours=10)) != rows(conn, DIRECT, T0 + timedelta(hours=10))


def test_refresh_needs_autocommit_and_a_known_name(conn, scratch_db_url):
    with pytest.raises(rollups.RollupError, match="no rollup named"):
        rollups.refresh(conn, "nope", None, None)
    with psycopg.connect(scratch_db_url) as tx_conn, pytest.raises(rollups.RollupError, match="autocommit"):
        rollups.refresh(tx_conn, DEMO.name, None, None)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "Bad-Name"}, "plain lower-case identifier"),
        ({"index": ("sensor; drop",)}, "plain lower-case identifier"),
        ({"select": "SELECT time_bucket('1 hour', observed_at) AS b FROM demo_readings GROUP BY 1"}, "`bucket`"),
    ],
)
def test_invalid_declarations_are_rejected(kwargs, message):
    with pytest.raises(rollups.RollupError, match=message):
        rollups.Rollup(**{"name": "demo", "select": DEMO_SELECT, "bucket_width": "1 hour", **kwargs})


def test_a_refresh_window_under_two_buckets_is_rejected_like_timescaledb_does(conn):
    narrow = rollups.Rollup(
        name="narrow",
        select=DEMO_SELECT,
        bucket_width="1 hour",
        refresh_start_offset="2 hours",
        refresh_end_offset="1 hour",
    )
    with pytest.raises(rollups.RollupError, match="two buckets"):
        rollups.sync(conn, [narrow], progress=lambda _: None)


def test_declarations_are_read_from_sql_files(tmp_path):
    path = tmp_path / "demo_daily.sql"
    path.write_text(
        "-- A demo.\n-- @bucket_width 1 day\n-- @refresh_start_offset 7 days\n-- @index sensor, kind\n"
        "SELECT time_bucket('1 day', observed_at) AS bucket, sensor, kind, count(*) AS n FROM t GROUP BY 1, 2, 3;\n"
    )
    rollup = rollups.Rollup.from_file(path)
    assert (rollup.name, rollup.bucket_width, rollup.refresh_start_offset, rollup.index) == (
        "demo_daily",
        "1 day",
        "7 days",
        ("sensor", "kind"),
    )
    assert rollup.select.startswith("-- A demo.") and not rollup.select.endswith(";")
    path.write_text("-- @bucket_widht 1 day\nSELECT 1 AS bucket")
    with pytest.raises(rollups.RollupError, match="unknown setting"):
        rollups.Rollup.from_file(path)
    path.write_text("SELECT 1 AS bucket")
    with pytest.raises(rollups.RollupError, match="bucket_width"):
        rollups.Rollup.from_file(path)


# --- the continuous-aggregate branch on the Apache edition ----------------------------------------


def server_license(conn: psycopg.Connection) -> str:
    return conn.execute("SHOW timescaledb.license").fetchone()[0]


@pytest.fixture
def apache_schema(scratch_db_url: str, project_root: Path):
    """A scratch database with the real schema but no rollup objects yet, on an Apache-edition server."""
    migrations.upgrade(scratch_db_url, project_root / "migrations", project_root / "sql", declared_rollups=[])
    with psycopg.connect(scratch_db_url, autocommit=True) as conn:
        if server_license(conn) != "apache":
            pytest.skip(
                "the continuous-aggregate statements are checked against the Apache edition's license refusal;"
                f" this server's timescaledb.license is {server_license(conn)!r}, where the licensed tests run them"
            )
        yield conn


@pytest.fixture
def apache_db(apache_schema: psycopg.Connection):
    """The same with the real rollups, built as this server builds them (materialized hypertables)."""
    rollups.sync(apache_schema, REAL, progress=lambda _: None)
    return apache_schema


def refused_for_the_license(send) -> str:
    """Send a continuous-aggregate statement to the Apache edition: a well-formed one is refused for the
    license (feature_not_supported, naming the license) and for nothing else. Returns the message."""
    with pytest.raises(psycopg.errors.FeatureNotSupported) as refused:
        send()
    assert refused.value.sqlstate == "0A000"
    message = refused.value.diag.message_primary or ""
    assert LICENSE_REFUSAL in message
    return message


def pose_as_continuous_aggregates(conn: psycopg.Connection) -> None:
    """Make the registry say what a licensed server's says: the rollups are continuous aggregates. The
    objects stay the Apache branch's hypertables, so every name the statements cast to regclass exists."""
    conn.execute("UPDATE rollup_definitions SET mode = %s", [rollups.CONTINUOUS_AGGREGATE])


@pytest.mark.parametrize("rollup", REAL, ids=lambda r: r.name)
def test_apache_refreshing_a_continuous_aggregate_is_refused_only_for_the_license(apache_db, rollup):
    pose_as_continuous_aggregates(apache_db)
    for start, end in [(None, None), (T0, T0 + timedelta(days=3)), (T0, None)]:
        message = refused_for_the_license(lambda s=start, e=end: rollups.refresh(apache_db, rollup.name, s, e))
        assert '"refresh_continuous_aggregate"' in message


@pytest.mark.parametrize("rollup", REAL, ids=lambda r: r.name)
def test_apache_every_continuous_aggregate_statement_is_refused_only_for_the_license(apache_schema, rollup):
    conn = apache_schema
    cagg = rollups.CONTINUOUS_AGGREGATE
    rollups.drop_statement(rollup.name, cagg).run(conn)  # sent first, for what an interrupted run left
    create_view, *after_create = rollups.create_statements(rollup, cagg)
    refused_for_the_license(lambda: create_view.run(conn))
    assert conn.execute("SELECT to_regclass(%s)", [rollup.name]).fetchone()[0] is None
    # The Apache branch's table stands in for the view, so that every regclass cast below resolves.
    rollups.sync(conn, [rollup], progress=lambda _: None)
    later = [
        *after_create,
        *rollups.policy_statements(rollup, header_changed=True, job_id=1000),
        *rollups.refresh_statements(rollup.name, cagg, rollup.select, None, None),
        *rollups.refresh_statements(rollup.name, cagg, rollup.select, T0, T0 + timedelta(days=2)),
    ]
    assert len(later) == 4  # add policy, alter policy, refresh unbounded, refresh bounded
    for statement in later:
        refused_for_the_license(lambda s=statement: s.run(conn))


def test_apache_a_malformed_statement_is_not_taken_for_a_license_refusal(apache_db):
    """The check above can fail: the refresh as it was sent before its bounds were typed."""
    untyped = rollups.Statement(
        psycopg.sql.SQL("CALL refresh_continuous_aggregate(%s::regclass, %s, %s)"), ("sales_daily", None, None)
    )
    with pytest.raises(psycopg.errors.IndeterminateDatatype, match="could not determine data type"):
        refused_for_the_license(lambda: untyped.run(apache_db))


def test_policy_statements_none_while_the_header_is_unchanged_else_alter_the_job_or_add_a_policy():
    rollup = REAL[0]
    assert rollups.policy_statements(rollup, header_changed=False, job_id=1000) == []
    assert rollups.policy_statements(rollup, header_changed=False, job_id=None) == []
    assert rollups.policy_statements(rollup, header_changed=True, job_id=1000) == [
        rollups.alter_policy_statement(rollup, 1000)
    ]
    assert rollups.policy_statements(rollup, header_changed=True, job_id=None) == [rollups.add_policy_statement(rollup)]


def test_apache_db_upgrade_sends_no_policy_statement_for_an_unchanged_declaration(apache_db):
    """Any policy statement would be refused for the license here: an unchanged declaration sends none."""
    pose_as_continuous_aggregates(apache_db)
    assert rollups.policy_job(apache_db, REAL[0].name) is None  # the look-up itself runs on both editions
    assert rollups.sync(apache_db, REAL, progress=lambda _: None, mode=rollups.CONTINUOUS_AGGREGATE) == []


def test_apache_a_changed_policy_header_is_sent_and_recorded_only_once_sent(apache_db):
    pose_as_continuous_aggregates(apache_db)
    recorded = "SELECT schedule_interval FROM rollup_definitions WHERE name = 'sales_daily'"
    before = apache_db.execute(recorded).fetchone()
    changed = [replace(r, schedule_interval="2 hours") if r.name == "sales_daily" else r for r in REAL]
    message = refused_for_the_license(
        lambda: rollups.sync(apache_db, changed, progress=lambda _: None, mode=rollups.CONTINUOUS_AGGREGATE)
    )
    assert '"add_continuous_aggregate_policy"' in message  # no policy job here, so one is added
    assert apache_db.execute(recorded).fetchone() == before  # not recorded: the next run sends it again


# --- the continuous-aggregate branch on a server with the Timescale License -----------------------


@pytest.fixture
def licensed_db_url(scratch_db_url: str, project_root: Path) -> str:
    """A scratch database with the real schema and rollups, on a server with the Timescale License."""
    with psycopg.connect(scratch_db_url) as conn:
        license_ = conn.execute("SELECT current_setting('timescaledb.license', true)").fetchone()[0]
    if license_ != "timescale":
        pytest.skip(
            "needs a TimescaleDB server with the Timescale License to build continuous aggregates; this"
            f" server's timescaledb.license is {license_ or 'apache'!r} (to run it, point TEST_DATABASE_URL"
            " at a licensed server: README, Tests)"
        )
    migrations.upgrade(scratch_db_url, project_root / "migrations", project_root / "sql", marketplaces=MARKETPLACES)
    return scratch_db_url


POLICY_JOBS = """
SELECT c.view_name, j.job_id, j.schedule_interval, j.max_retries,
       (j.config->>'start_offset')::interval AS start_offset, (j.config->>'end_offset')::interval AS end_offset
FROM timescaledb_information.continuous_aggregates c
JOIN timescaledb_information.jobs j
  ON j.hypertable_schema = c.materialization_hypertable_schema AND j.hypertable_name = c.materialization_hypertable_name
WHERE j.proc_name = 'policy_refresh_continuous_aggregate'
ORDER BY c.view_name
"""


def policy_jobs(conn: psycopg.Connection) -> dict[str, dict]:
    return {row["view_name"]: row for row in conn.cursor(row_factory=psycopg.rows.dict_row).execute(POLICY_JOBS)}


def declared_policy(conn: psycopg.Connection, rollup: rollups.Rollup) -> tuple:
    return conn.execute(
        "SELECT %s::interval, %s::interval, %s::interval",
        [rollup.schedule_interval, rollup.refresh_start_offset, rollup.refresh_end_offset],
    ).fetchone()


def test_licensed_the_real_rollups_are_continuous_aggregates_with_their_declared_policies(licensed_db_url):
    with psycopg.connect(licensed_db_url) as conn:
        views = conn.execute(
            "SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates ORDER BY 1"
        ).fetchall()
        assert views == [(r.name, True) for r in REAL]
        jobs = policy_jobs(conn)
        assert sorted(jobs) == [r.name for r in REAL]
        for rollup in REAL:
            job = jobs[rollup.name]
            assert (job["schedule_interval"], job["start_offset"], job["end_offset"]) == declared_policy(conn, rollup)
        modes = conn.execute("SELECT DISTINCT mode, needs_refresh FROM rollup_definitions").fetchall()
        assert modes == [(rollups.CONTINUOUS_AGGREGATE, False)]


def test_licensed_policy_jobs_outlive_db_upgrade_and_a_dbas_tuning_outlives_it_too(licensed_db_url, project_root):
    def upgrade(declared: list[rollups.Rollup] | None = None) -> None:
        migrations.upgrade(
            licensed_db_url, project_root / "migrations", project_root / "sql", declared_rollups=declared
        )

    with psycopg.connect(licensed_db_url, autocommit=True) as conn:
        created = policy_jobs(conn)
        upgrade()
        assert policy_jobs(conn) == created

        # A DBA tunes one policy by hand; `db upgrade` with the same declarations keeps the tuning.
        job_id = created["sales_daily"]["job_id"]
        conn.execute(
            "SELECT alter_job(%s, schedule_interval => '1 hour', max_retries => 3,"
            ' config => config || \'{"start_offset": "14 days"}\') FROM timescaledb_information.jobs'
            " WHERE job_id = %s",
            [job_id, job_id],
        )
        tuned = policy_jobs(conn)
        assert tuned["sales_daily"]["start_offset"] == timedelta(days=14)
        upgrade()
        assert policy_jobs(conn) == tuned

        # The declared header changes: its values go onto the same job, which keeps the DBA's retries.
        header = {"schedule_interval": "30 minutes", "refresh_start_offset": "10 days"}
        changed = [replace(r, **header) if r.name == "sales_daily" else r for r in REAL]
        upgrade(changed)
        after = policy_jobs(conn)
        assert after["sales_daily"] == {
            **tuned["sales_daily"],
            "schedule_interval": timedelta(minutes=30),
            "start_offset": timedelta(days=10),
            "end_offset": timedelta(0),
        }
        assert after["sales_daily"]["max_retries"] == 3
        assert {k: v for k, v in after.items() if k != "sales_daily"} == {
            k: v for k, v in created.items() if k != "sales_daily"
        }
        recorded = conn.execute(
            "SELECT schedule_interval, refresh_start_offset FROM rollup_definitions WHERE name = 'sales_daily'"
        ).fetchone()
        assert recorded == (timedelta(minutes=30), timedelta(days=10))
        upgrade(changed)
        assert policy_jobs(conn) == after


# What the two branches must agree on: every rollup row, and every metric, rank and index row made from them.
COMPARED = {
    **{r.name: f"SELECT * FROM {r.name} ORDER BY bucket, product_id, marketplace" for r in REAL},
    "product_metrics_daily": "SELECT to_jsonb(m) - 'computed_at' FROM product_metrics_daily m ORDER BY product_id, day",
    "product_ranks_daily": "SELECT * FROM product_ranks_daily ORDER BY scope, product_id, day",
    "market_index_daily": "SELECT * FROM market_index_daily ORDER BY scope, day",
}


def contents(url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url) as conn:
        return {name: conn.execute(statement).fetchall() for name, statement in COMPARED.items()}


def test_licensed_continuous_aggregates_equal_the_apache_branch_row_for_row(
    licensed_db_url, scratch_databases, project_root
):
    """Both branches on one licensed server, over the same simulated market: the continuous aggregates
    (refreshed by the pipeline with bounds, then without) and the materialized hypertables hold the same rows."""
    apache_url = scratch_databases()
    migrations.upgrade(
        apache_url, project_root / "migrations", project_root / "sql", declared_rollups=[], marketplaces=MARKETPLACES
    )
    with psycopg.connect(apache_url, autocommit=True) as conn:
        rollups.sync(conn, REAL, progress=lambda _: None, mode=rollups.MATERIALIZED_HYPERTABLE)
    branches = {rollups.CONTINUOUS_AGGREGATE: licensed_db_url, rollups.MATERIALIZED_HYPERTABLE: apache_url}
    first_day, last_day = (MARKET_NOW - timedelta(days=20)).date(), MARKET_NOW.date()
    for mode, url in branches.items():
        with psycopg.connect(url, autocommit=True, row_factory=psycopg.rows.dict_row) as conn:
            assert {row["mode"] for row in conn.execute("SELECT mode FROM rollup_definitions")} == {mode}
            insert_products(conn)
        driver.advance(url, days=20, now=MARKET_NOW, kind="sim-backfill")
        pipeline.run(url, first_day, last_day)  # refreshes each rollup for [first_day, last_day + 1 day)

    cagg, apache = (contents(url) for url in branches.values())
    assert all(cagg[r.name] for r in REAL) and cagg["product_metrics_daily"] and cagg["market_index_daily"]
    for name in COMPARED:
        assert cagg[name] == apache[name], name

    # Late changes to raw rows, then unbounded refreshes (db upgrade's fill, data go-live) and the pipeline.
    for url in branches.values():
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DELETE FROM sales WHERE sold_at < %s", [MARKET_NOW - timedelta(days=12)])
            conn.execute(
                "UPDATE price_points SET market_price = market_price + 1 WHERE observed_at < %s",
                [MARKET_NOW - timedelta(days=10)],
            )
            for rollup in REAL:
                rollups.refresh(conn, rollup.name, None, None)
        pipeline.run(url, first_day, last_day)
    cagg_after, apache_after = (contents(url) for url in branches.values())
    assert cagg_after["sales_daily"] != cagg["sales_daily"]
    for name in COMPARED:
        assert cagg_after[name] == apache_after[name], name
