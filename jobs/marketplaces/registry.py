"""The marketplace adapters: one list of modules, each of which registers its adapter when imported
(as redash lists its query runners and each one calls `register()`).

Adding a marketplace is one adapter module (the contract: jobs/marketplaces/base.py) and one line in
ADAPTERS; its marketplace row, settings, fetch jobs, schedule entries and replay all come from here.
"""

from __future__ import annotations

import importlib
from typing import Any

from jobs.marketplaces.base import Adapter, Config, FanOut
from jobs.periodic import Entry
from service.core.marketplaces import Marketplace
from service.core.settings import Env

# The enabled adapters, in the order their settings are listed and their entries scheduled.
ADAPTERS: tuple[str, ...] = (
    "jobs.marketplaces.tcgplayer",
    "jobs.marketplaces.ebay",
)

_registered: dict[str, Adapter[Any]] = {}  # module name -> its adapter


class RegistryError(RuntimeError):
    """The adapters contradict each other, or a listed module registered none."""


def register(module: str, adapter: Adapter[Config]) -> Adapter[Config]:
    """Called by an adapter module as it is imported: `ADAPTER = register(__name__, Adapter(...))`."""
    for other_module, other in _registered.items():
        if other_module != module and other.code == adapter.code:
            raise RegistryError(f"{module} and {other_module} both declare marketplace {adapter.code!r}")
    _registered[module] = adapter
    return adapter


def adapters() -> tuple[Adapter[Any], ...]:
    """The enabled adapters, in ADAPTERS order (their modules are imported on first use)."""
    found = []
    for module in ADAPTERS:
        importlib.import_module(module)
        if module not in _registered:
            # Also what an adapter module would see if it asked for the registry while being imported.
            raise RegistryError(f"{module} registered no adapter: it must call register(__name__, Adapter(...))")
        found.append(_registered[module])
    return tuple(found)


def fan_out(kind: str) -> tuple[Adapter[Any], FanOut]:
    for adapter in adapters():
        for candidate in adapter.fan_outs:
            if candidate.kind == kind:
                return adapter, candidate
    known = ", ".join(f.kind for a in adapters() for f in a.fan_outs)
    raise ValueError(f"no fetch kind {kind!r} (known: {known})")


def replayer(payload_kind: object) -> Adapter[Any] | None:
    """The adapter that re-parses raw payloads of this kind, if any does (tokens, catalog look-ups and
    other calls that wrote nothing are replayed by none)."""
    return next((a for a in adapters() if payload_kind in a.replays), None)


def schedule() -> tuple[Entry, ...]:
    return tuple(entry for adapter in adapters() for entry in adapter.schedule)


def marketplaces(env: Env | None = None) -> tuple[Marketplace, ...]:
    """The marketplace rows the adapters declare under these settings (by default the process's), for
    `flask db upgrade`."""
    env = env or Env.load()
    return tuple(adapter.declared(env) for adapter in adapters())


def read_configs(env: Env) -> dict[str, Any]:
    """Every adapter's settings, read and validated (`flask settings check` and `example`)."""
    return {adapter.code: adapter.read_config(env) for adapter in adapters()}
