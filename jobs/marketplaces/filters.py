"""Which marketplace listings are the product, and how many boxes a listing sells (SPEC §2).

Keyword searches return noise: Japanese and other Asian editions, opened or damaged or empty boxes,
cases, loose packs, "break" listings. Those are rejected by title, with the product source's own
exclude terms on top of the defaults; a multi-box lot ("lot of 3", "x3", "3 booster boxes") becomes
one listing of 3 units at a third of the price. When a title says "lot" but no count can be read,
the listing is rejected: conservative bias.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# Reason -> patterns; a match rejects the listing with that reason.
DEFAULT_RULES: dict[str, tuple[str, ...]] = {
    "asian_edition": (
        r"japanese", r"japan", r"\bjp\b", r"\bjpn\b", r"korean", r"\bkr\b", r"chinese", r"\bcn\b",
        r"simplified", r"traditional chinese", r"\basia\b", r"\basian\b", r"thai", r"indonesian",
    ),
    "not_sealed": (
        r"\bopened\b", r"\bopen box\b", r"\bempty\b", r"\bdamaged\b", r"\bdented\b", r"\bcrushed\b",
        r"\bresealed\b", r"\bno packs\b", r"\bunsealed\b", r"\bbox only\b", r"\bdisplay only\b",
    ),
    "case": (r"\bcases?\b",),
    "packs": (r"\bpacks?\b", r"\bsleeved booster\b", r"\bblister\b"),
    "break": (r"\bbreaks?\b", r"\bbreaking\b", r"\brip\b", r"\brepacks?\b", r"\bproxy\b", r"\bmystery\b"),
}  # fmt: skip
_RULES = {reason: [re.compile(p, re.IGNORECASE) for p in patterns] for reason, patterns in DEFAULT_RULES.items()}

_BOX = r"(?:booster\s+|play\s+booster\s+|collector\s+booster\s+|draft\s+booster\s+|set\s+booster\s+)?box(?:es)?"
_LOT_PATTERNS = [
    re.compile(r"\blot\s+of\s+\(?(\d{1,2})\)?", re.IGNORECASE),
    re.compile(r"\b(?:set|bundle)\s+of\s+\(?(\d{1,2})\)?\s+", re.IGNORECASE),
    re.compile(r"^\s*\((\d{1,2})\)", re.IGNORECASE),
    re.compile(r"(?<![\w.\-#/])(\d{1,2})\s*x\b", re.IGNORECASE),
    re.compile(r"\bx\s?(\d{1,2})\b", re.IGNORECASE),
    re.compile(r"(?<![\w.\-#/])\(?(\d{1,2})\)?\s+(?:sealed\s+)?" + _BOX + r"\b", re.IGNORECASE),
]
_LOT_WORD = re.compile(r"\blots?\b|\bbundle\b", re.IGNORECASE)
_BOXES = re.compile(r"\bboxes\b", re.IGNORECASE)  # several boxes, but how many?
_WORD = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class SourceRules:
    """The filtering rules of one product source (product_sources row)."""

    exclude_terms: Sequence[str] = ()
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    packs_per_box: int | None = None


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    reason: str | None = None  # why it was rejected
    units: int = 1  # boxes the listing sells as one


def _without_pack_count(title: str, packs_per_box: int | None) -> str:
    """A box title often states its pack count ("36 packs"); that is not a listing of packs."""

    def keep_unless_box_count(match: re.Match[str]) -> str:
        count = int(match.group(1))
        box_count = count == packs_per_box if packs_per_box else count >= 12
        return " " if box_count else match.group(0)

    return re.sub(r"\b(\d{1,3})\s*(?:booster\s+)?packs?\b", keep_unless_box_count, title, flags=re.IGNORECASE)


def _normalise(text: str) -> str:
    return " " + _WORD.sub(" ", text.lower()).strip() + " "


def lot_size(title: str) -> int | None:
    """How many boxes the title sells: 1 for a single box, n for a lot of n, None when unreadable."""
    for pattern in _LOT_PATTERNS:
        match = pattern.search(title)
        if match:
            n = int(match.group(1))
            return n if 1 <= n <= 50 else None
    return None if _LOT_WORD.search(title) or _BOXES.search(title) else 1


def judge(title: str, rules: SourceRules) -> Verdict:
    cleaned = _without_pack_count(title, rules.packs_per_box)
    for reason, patterns in _RULES.items():
        if any(p.search(cleaned) for p in patterns):
            return Verdict(False, f"title_{reason}")
    words = _normalise(cleaned)
    for term in rules.exclude_terms:
        if term.strip() and _normalise(term) in words:
            return Verdict(False, "title_excluded_term")
    units = lot_size(cleaned)
    if units is None:
        return Verdict(False, "title_unreadable_lot")
    return Verdict(True, units=units)


def per_unit(amount: Decimal, units: int) -> Decimal:
    return (amount / units).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def in_price_band(unit_price: Decimal, rules: SourceRules) -> bool:
    if rules.price_min is not None and unit_price < rules.price_min:
        return False
    return not (rules.price_max is not None and unit_price > rules.price_max)
