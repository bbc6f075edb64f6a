"""Synthetic starting prices for the simulated market.

The seed catalog has no prices (MSRP is almost always blank), so the simulation derives a
deterministic starting value per product from its game, type, pack count and age. These numbers
are synthetic: they make the demo look plausible, they are not market data.
"""

from __future__ import annotations

import hashlib
from datetime import date

# Typical US price of one pack, by game and product type (synthetic, round numbers).
PACK_PRICE = {
    "mtg": 4.5,
    "pokemon": 4.0,
    "one-piece": 4.0,
    "lorcana": 5.0,
    "yugioh": 3.5,
    "star-wars-unlimited": 4.0,
    "flesh-and-blood": 4.5,
    "digimon": 3.5,
    "dragon-ball-fusion": 3.5,
}
TYPE_MULTIPLIER = {
    "collector_booster_box": 5.0,
    "enhanced_booster_box": 1.4,
    "elite_trainer_box": 1.6,
    "play_booster_box": 1.0,
    "booster_box": 1.0,
}
DEFAULT_PACKS = 24


def unit_noise(slug: str, salt: str) -> float:
    """A stable number in [0, 1) per product."""
    digest = hashlib.sha256(f"{salt}:{slug}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def starting_price(
    slug: str, game: str, product_type: str, packs: int | None, release: date | None, today: date
) -> float:
    packs = packs or DEFAULT_PACKS
    base = packs * PACK_PRICE.get(game, 4.0) * TYPE_MULTIPLIER.get(product_type, 1.0)
    years = max(0.0, (today - release).days / 365.25) if release else 0.5
    # Sealed product tends to appreciate once out of print; some sets boom, some bust.
    appreciation = (1 + 0.12 * years) ** 1.3 * (0.6 + 1.2 * unit_noise(slug, "taste"))
    return round(max(20.0, base * 0.85 * appreciation), 2)
