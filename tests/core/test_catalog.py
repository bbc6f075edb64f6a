from __future__ import annotations

from pathlib import Path

import pytest

from service.core import catalog

HEADER = ",".join(catalog.COLUMNS)
GOOD = "one-piece,OP-01,Romance Dawn,Romance Dawn Booster Box [OP-01],booster_box,2022-12-02,,450086,24"


def write_csv(tmp_path: Path, *lines: str, header: str = HEADER) -> Path:
    path = tmp_path / "catalog.csv"
    path.write_text("\n".join([header, *lines]) + "\n")
    return path


def counts(db) -> tuple[int, int, int]:
    row = db.execute(
        "SELECT (SELECT count(*) FROM games) AS g, (SELECT count(*) FROM products) AS p,"
        " (SELECT count(*) FROM product_sources) AS s"
    ).fetchone()
    return row["g"], row["p"], row["s"]


def test_the_seed_catalog_loads_and_reloading_changes_nothing(db, project_root):
    rows = catalog.parse_csv(project_root / "data" / "catalog.csv")
    assert len(rows) == 213
    first = catalog.load(db, rows)
    assert (first.products, first.inserted) == (213, 213)
    before = counts(db)
    updated_at = db.execute("SELECT max(updated_at) AS t FROM products").fetchone()["t"]
    second = catalog.load(db, rows)
    assert second.inserted == 0
    assert counts(db) == before
    assert db.execute("SELECT max(updated_at) AS t FROM products").fetchone()["t"] == updated_at
    assert before[0] == 9
    # Gaps stay gaps: no guessed dates, MSRPs or pack counts.
    assert db.execute("SELECT count(*) AS n FROM products WHERE release_date IS NULL").fetchone()["n"] == 3
    assert db.execute("SELECT count(*) AS n FROM products WHERE packs_per_box IS NULL").fetchone()["n"] == 2
    tcg = db.execute("SELECT count(*) AS n FROM product_sources WHERE marketplace = 'tcgplayer'").fetchone()["n"]
    assert tcg == 169


def test_slugs_come_from_names(db, tmp_path):
    catalog.load(db, catalog.parse_csv(write_csv(tmp_path, GOOD)))
    product = db.execute("SELECT slug, game, msrp_usd, release_date::text AS d FROM products").fetchone()
    assert product == {
        "slug": "romance-dawn-booster-box-op-01",
        "game": "one-piece",
        "msrp_usd": None,
        "d": "2022-12-02",
    }
    sources = db.execute("SELECT marketplace, external_id FROM product_sources ORDER BY marketplace").fetchall()
    assert {s["marketplace"]: s["external_id"] for s in sources}["tcgplayer"] == "450086"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("One Piece,OP-01,RD,Box,booster_box,,,,", "game must be a lower-case code"),
        ("one-piece,OP-01,RD,,booster_box,,,,", "product_name is required"),
        ("one-piece,OP-01,RD,Box,Booster Box,,,,", "product_type must be lower_case_words"),
        ("one-piece,OP-01,RD,Box,booster_box,2022-13-01,,,", "release_date must be YYYY-MM-DD"),
        ("one-piece,OP-01,RD,Box,booster_box,,-5,,", "msrp_usd must be a positive amount"),
        ("one-piece,OP-01,RD,Box,booster_box,,1.234,,", "msrp_usd must be a positive amount"),
        ("one-piece,OP-01,RD,Box,booster_box,,NaN,,", "msrp_usd must be a positive amount"),
        ("one-piece,OP-01,RD,Box,booster_box,,,abc,", "tcgplayer_product_id must be a positive whole number"),
        ("one-piece,OP-01,RD,Box,booster_box,,,,0", "packs_per_box must be a positive whole number"),
        ("one-piece,OP-01,RD,Box,booster_box,,,,24,extra", "more fields than columns"),
        (GOOD, "duplicate of line 2"),
    ],
)
def test_a_bad_row_is_reported_by_line_and_nothing_is_loaded(db, tmp_path, line, problem):
    path = write_csv(tmp_path, GOOD, line)
    with pytest.raises(catalog.CatalogError) as error:
        catalog.parse_csv(path)
    assert any(p.startswith("line 3: ") and problem in p for p in error.value.problems), error.value.problems
    assert counts(db) == (0, 0, 0)


def test_every_bad_row_is_reported_not_just_the_first(tmp_path):
    path = write_csv(tmp_path, "bad game,,,X,booster_box,,,,", GOOD, "pokemon,,,Y,booster_box,yesterday,,,")
    with pytest.raises(catalog.CatalogError) as error:
        catalog.parse_csv(path)
    assert [p.split(":")[0] for p in error.value.problems] == ["line 2", "line 4"]


def test_a_wrong_header_or_empty_file_is_rejected(tmp_path):
    with pytest.raises(catalog.CatalogError, match="header must be"):
        catalog.parse_csv(write_csv(tmp_path, GOOD, header="game,name"))
    with pytest.raises(catalog.CatalogError, match="no products"):
        catalog.parse_csv(write_csv(tmp_path))


def test_the_cli_loads_and_reports_problems(runner, db, tmp_path, project_root):
    bad = write_csv(tmp_path, GOOD, "one-piece,OP-01,RD,Box,booster_box,2022-02-30,,,")
    result = runner.invoke(args=["catalog", "load", str(bad)])
    assert result.exit_code == 1
    assert "line 3: release_date must be YYYY-MM-DD" in result.output
    assert "nothing was loaded" in result.output
    assert counts(db) == (0, 0, 0)
    result = runner.invoke(args=["catalog", "load"])
    assert result.exit_code == 0, result.output
    assert "213 products (213 new)" in result.output
