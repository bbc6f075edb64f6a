"""The product catalog: loading the seed CSV (data/catalog.csv) idempotently, all or nothing."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import psycopg

from service.core import data_mode
from service.core.sql import query

COLUMNS = (
    "game",
    "set_code",
    "set_name",
    "product_name",
    "product_type",
    "release_date",
    "msrp_usd",
    "tcgplayer_product_id",
    "packs_per_box",
)
GAME_NAMES = {
    "one-piece": "One Piece Card Game",
    "pokemon": "Pokémon TCG",
    "mtg": "Magic: The Gathering",
    "lorcana": "Disney Lorcana",
    "yugioh": "Yu-Gi-Oh!",
    "star-wars-unlimited": "Star Wars: Unlimited",
    "flesh-and-blood": "Flesh and Blood",
    "digimon": "Digimon Card Game",
    "dragon-ball-fusion": "Dragon Ball Super: Fusion World",
}
# Title words that mean a listing is not the sealed English box (SPEC §2), for marketplace searches.
DEFAULT_EXCLUDE_TERMS = [
    "japanese", "japan", "korean", "chinese", "asia", "asian", "opened", "empty", "damaged", "case",
    "pack", "packs", "break", "breaks", "repack", "proxy", "display only",
]  # fmt: skip
_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*\Z")
_PRODUCT_TYPE = re.compile(r"^[a-z_]+\Z")


class CatalogError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(frozen=True)
class CatalogRow:
    game: str
    set_code: str | None
    set_name: str | None
    name: str
    product_type: str
    release_date: date | None
    msrp_usd: Decimal | None
    tcgplayer_product_id: int | None
    packs_per_box: int | None

    @property
    def slug(self) -> str:
        return slugify(self.name)


def _optional(value: str) -> str | None:
    value = value.strip()
    return value or None


def _positive_int(value: str | None, column: str) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or int(value) <= 0:
        raise ValueError(f"{column} must be a positive whole number, got {value!r}")
    return int(value)


def parse_row(raw: dict[str, str]) -> CatalogRow:
    values = {key: _optional(raw.get(key) or "") for key in COLUMNS}
    problems = []
    game, name, product_type = values["game"], values["product_name"], values["product_type"]
    if not game or not _SLUG.match(game):
        problems.append(f"game must be a lower-case code like 'one-piece', got {game!r}")
    if not name or len(name) > 300:
        problems.append("product_name is required (at most 300 characters)")
    elif not slugify(name):
        problems.append(f"product_name {name!r} has no letters or digits")
    if not product_type or not _PRODUCT_TYPE.match(product_type):
        problems.append(f"product_type must be lower_case_words like 'booster_box', got {product_type!r}")
    release = None
    if values["release_date"]:
        try:
            release = date.fromisoformat(values["release_date"])
        except ValueError:
            problems.append(f"release_date must be YYYY-MM-DD, got {values['release_date']!r}")
    msrp = None
    if values["msrp_usd"]:
        try:
            msrp = Decimal(values["msrp_usd"])
            if not msrp.is_finite() or msrp <= 0 or msrp.as_tuple().exponent < -2:  # type: ignore[operator]
                raise InvalidOperation
        except InvalidOperation:
            problems.append(f"msrp_usd must be a positive amount with at most 2 decimals, got {values['msrp_usd']!r}")
            msrp = None
    ints: dict[str, int | None] = {}
    for column in ("tcgplayer_product_id", "packs_per_box"):
        try:
            ints[column] = _positive_int(values[column], column)
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise ValueError("; ".join(problems))
    return CatalogRow(
        game=game,  # type: ignore[arg-type]
        set_code=values["set_code"],
        set_name=values["set_name"],
        name=name,  # type: ignore[arg-type]
        product_type=product_type,  # type: ignore[arg-type]
        release_date=release,
        msrp_usd=msrp,
        tcgplayer_product_id=ints["tcgplayer_product_id"],
        packs_per_box=ints["packs_per_box"],
    )


def parse_csv(path: Path) -> list[CatalogRow]:
    """Every row validated; any problem anywhere raises CatalogError listing each one by line."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [c for c in COLUMNS if c not in header]
        unknown = [c for c in header if c not in COLUMNS]
        if missing or unknown:
            raise CatalogError([f"line 1: header must be {','.join(COLUMNS)} (missing {missing}, unknown {unknown})"])
        return validate_rows((reader.line_num, raw) for raw in reader)


def validate_rows(numbered: Iterable[tuple[int, dict[str, str]]]) -> list[CatalogRow]:
    rows: list[CatalogRow] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for line, raw in numbered:
        if None in raw:
            problems.append(f"line {line}: more fields than columns")
            continue
        try:
            row = parse_row(raw)
        except ValueError as exc:
            problems.append(f"line {line}: {exc}")
            continue
        if row.slug in seen:
            problems.append(f"line {line}: duplicate of line {seen[row.slug]} (same product name)")
            continue
        seen[row.slug] = line
        rows.append(row)
    if problems:
        raise CatalogError(problems)
    if not rows:
        raise CatalogError(["the file has no products"])
    return rows


@dataclass(frozen=True)
class LoadReport:
    products: int
    inserted: int
    sources: int


def load(conn: psycopg.Connection[Any], rows: list[CatalogRow]) -> LoadReport:
    """Upsert games, products and their marketplace sources in one transaction. A live database gets
    no simulated sources (service/core/data_mode.py)."""
    simulated = data_mode.current(conn) == data_mode.DEMO
    with conn.transaction(), conn.cursor(row_factory=psycopg.rows.tuple_row) as cur:
        games = sorted({r.game for r in rows})
        cur.executemany(query("catalog/upsert_game"), [{"code": g, "name": GAME_NAMES.get(g, g)} for g in games])
        inserted = 0
        sources = 0
        for row in rows:
            cur.execute(
                query("catalog/upsert_product"),
                {
                    "slug": row.slug,
                    "game": row.game,
                    "set_code": row.set_code,
                    "set_name": row.set_name,
                    "name": row.name,
                    "product_type": row.product_type,
                    "release_date": row.release_date,
                    "msrp_usd": row.msrp_usd,
                    "packs_per_box": row.packs_per_box,
                },
            )
            result = cur.fetchone()
            assert result is not None
            product_id, was_inserted = result[0], result[1]
            inserted += bool(was_inserted)
            for marketplace, external_id, search in _sources(row, simulated=simulated):
                cur.execute(
                    query("catalog/upsert_source"),
                    {
                        "product_id": product_id,
                        "marketplace": marketplace,
                        "external_id": external_id,
                        "search_query": search,
                        "exclude_terms": DEFAULT_EXCLUDE_TERMS if search else [],
                    },
                )
                sources += 1
    return LoadReport(products=len(rows), inserted=inserted, sources=sources)


def _sources(row: CatalogRow, *, simulated: bool) -> list[tuple[str, str | None, str | None]]:
    search = re.sub(r"\s*[\[(].*?[\])]", "", row.name).strip()
    sources: list[tuple[str, str | None, str | None]] = [("ebay", None, f"{search} {row.set_code or ''}".strip())]
    if simulated:
        sources[:0] = [("sim-tcgplayer", row.slug, None), ("sim-ebay", row.slug, None)]
    if row.tcgplayer_product_id:
        sources.append(("tcgplayer", str(row.tcgplayer_product_id), None))
    return sources
