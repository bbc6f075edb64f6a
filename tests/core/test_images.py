"""Box images in the core: the migration that brought them, and how an image's type is told."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg

from service.core import images, migrations
from tests.fakes.marketplaces import png

IMAGES_MIGRATION = "0018_product_images.sql"


def test_an_image_url_set_before_becomes_the_admins_override(scratch_db_url, project_root, tmp_path: Path):
    before, sql_dir = tmp_path / "migrations", tmp_path / "sql"
    before.mkdir()
    sql_dir.mkdir()
    for path in sorted((project_root / "migrations").glob("*.sql")):
        if path.name < IMAGES_MIGRATION:
            shutil.copy(path, before)
    migrations.upgrade(scratch_db_url, before, sql_dir, declared_rollups=[], progress=lambda _: None)
    with psycopg.connect(scratch_db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO games (code, name) VALUES ('mtg', 'Magic')")
        conn.execute(
            "INSERT INTO products (slug, game, name, product_type, image_url) VALUES"
            " ('a-box', 'mtg', 'A Box', 'booster_box', 'https://images.example.com/a.png'),"
            " ('b-box', 'mtg', 'B Box', 'booster_box', NULL)"
        )
    shutil.copy(project_root / "migrations" / IMAGES_MIGRATION, before)
    report = migrations.upgrade(scratch_db_url, before, sql_dir, declared_rollups=[], progress=lambda _: None)
    assert report.applied == [IMAGES_MIGRATION]
    with psycopg.connect(scratch_db_url) as conn:
        rows = conn.execute(
            "SELECT slug, image_override_url, image_source_url, image_url FROM products ORDER BY slug"
        ).fetchall()
    # The old free-text URL is kept as what an admin chose; nothing is served until it is downloaded.
    assert rows == [("a-box", "https://images.example.com/a.png", None, None), ("b-box", None, None, None)]


def test_magic_bytes_decide_the_type():
    assert images.sniff(png((0, 0, 0))) == "image/png"
    assert images.sniff(b"\xff\xd8\xff\xe0\0\x10JFIF") == "image/jpeg"
    assert images.sniff(b"RIFF\x24\0\0\0WEBPVP8 ") == "image/webp"
    assert images.sniff(b"RIFF\x24\0\0\0WAVEfmt ") is None
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert images.sniff(b"GIF89a") is None and images.sniff(svg) is None and images.sniff(b"") is None
