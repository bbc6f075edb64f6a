"""RQ job functions. Thin: resolve inputs from settings, call the real work, let RQ record the result."""

from __future__ import annotations

from typing import Any

from jobs.sim import driver
from service.settings import Settings


def sim_tick() -> dict[str, Any]:
    """Advance the simulated market to now (the embedded default data source)."""
    report = driver.advance(Settings.from_env().database_url)
    return {
        "steps": report.steps,
        "simulated_through": report.simulated_through.isoformat() if report.simulated_through else None,
        "written": dict(report.result.written),
    }
