"""The environment, read once: the process environment over the project's `.env` file, with typed
readers that validate as they read and name the variable in every error.

Every read also declares the variable (its section, default and meaning). Reading with a recording
`Env` over an empty environment therefore lists every variable the code knows, which is how
`.env.example` is written (`flask settings example`) and how a test keeps the two from drifting.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

PROJECT_ROOT = Path(__file__).resolve().parents[3]
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}


class SettingsError(ValueError):
    """A setting is missing or malformed."""


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    help: str
    section: str
    secret: bool = False


class Env:
    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)
        self.declared: dict[str, Variable] = {}
        self._section = ""

    @classmethod
    def load(cls, path: Path = PROJECT_ROOT / ".env") -> Env:
        """The process environment, falling back to `path` (development's .env) for what it lacks."""
        merged = {**dotenv_values(path), **os.environ}
        return cls({k: v for k, v in merged.items() if v is not None})

    def section(self, title: str) -> Env:
        self._section = title
        return self

    def declare(self, name: str, default: Any, help: str, *, secret: bool = False) -> None:
        """A variable this code reads (or, with no reader called, one that scripts or compose read)."""
        shown = "" if secret else _show(default)
        self.declared.setdefault(name, Variable(name, shown, help, self._section, secret))

    def _raw(self, name: str, default: Any, help: str, secret: bool = False) -> str | None:
        self.declare(name, default, help, secret=secret)
        raw = self.values.get(name)
        return None if raw is None or raw.strip() == "" else raw.strip()

    def text(self, name: str, default: str, help: str, *, secret: bool = False, choices: set[str] | None = None) -> str:
        raw = self._raw(name, default, help, secret)
        value = default if raw is None else raw
        if choices is not None and value not in choices:
            raise SettingsError(f"{name} must be one of {', '.join(sorted(choices))}, got {value!r}")
        return value

    def integer(
        self, name: str, default: int, help: str, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        raw = self._raw(name, default, help)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
        return _in_range(name, value, minimum, maximum)

    def number(self, name: str, default: float, help: str, *, minimum: float | None = 0.0) -> float:
        raw = self._raw(name, default, help)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a number, got {raw!r}") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise SettingsError(f"{name} must be a finite number, got {raw!r}")
        return _in_range(name, value, minimum, None)

    def flag(self, name: str, default: bool, help: str) -> bool:
        raw = self._raw(name, default, help)
        if raw is None:
            return default
        if raw.lower() in TRUE:
            return True
        if raw.lower() in FALSE:
            return False
        raise SettingsError(f"{name} must be true or false, got {raw!r}")

    def csv(self, name: str, default: tuple[str, ...], help: str) -> tuple[str, ...]:
        """Comma-separated values."""
        raw = self._raw(name, ",".join(default), help)
        return default if raw is None else tuple(part.strip() for part in raw.split(",") if part.strip())

    def example(self) -> str:
        """The text of .env.example: every declared variable, commented out, with its default."""
        lines = [
            "# Copy to .env and adjust. Every variable is optional in development; the defaults are shown.",
            "# Written by `flask --app service.app settings example`; a test fails when this file drifts.",
        ]
        sections: dict[str, list[Variable]] = {}
        for variable in self.declared.values():
            sections.setdefault(variable.section, []).append(variable)
        for section, variables in sections.items():
            lines += ["", f"# --- {section} ---"]
            for variable in variables:
                lines += [f"# {variable.help}"] if variable.help else []
                lines.append(f"# {variable.name}={variable.default}")
        return "\n".join(lines) + "\n"


def _show(default: Any) -> str:
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, tuple):
        return ",".join(map(str, default))
    return str(default)


def _in_range(name: str, value: Any, minimum: Any, maximum: Any) -> Any:
    if minimum is not None and value < minimum:
        if minimum == 0:
            raise SettingsError(f"{name} must not be negative, got {value}")
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{name} must be at most {maximum}, got {value}")
    return value
