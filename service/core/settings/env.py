"""The environment, read once: the process environment over the project's `.env` file, with typed
readers that validate as they read and name the variable in every error.

Every read also declares the variable (its section, default and meaning). Reading with a recording
`Env` over an empty environment therefore lists every variable the code knows, which is how
`.env.example` is written (`flask settings example`) and how a test keeps the two from drifting.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from dotenv import dotenv_values

PROJECT_ROOT = Path(__file__).resolve().parents[3]
T = TypeVar("T")
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
        self._problems: list[str] | None = None  # while collecting()

    @classmethod
    def load(cls, path: Path = PROJECT_ROOT / ".env") -> Env:
        """The process environment, falling back to `path` (development's .env) for what it lacks."""
        merged = {**dotenv_values(path), **os.environ}
        return cls({k: v for k, v in merged.items() if v is not None})

    @contextmanager
    def collecting(self) -> Iterator[None]:
        """Read on past a bad value (its default stands in) and raise every one at the end, one a line:
        whoever fixes the configuration learns all that is wrong at once, not one start at a time."""
        self._problems = []
        try:
            yield
        finally:
            problems, self._problems = self._problems, None
        if problems:
            raise SettingsError("\n".join(problems))

    def fail(self, message: str, fallback: T) -> T:
        """A bad value: raised at once, or noted and `fallback` used while collecting."""
        if self._problems is None:
            raise SettingsError(message)
        self._problems.append(message)
        return fallback

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
            return self.fail(f"{name} must be one of {', '.join(sorted(choices))}, got {value!r}", default)
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
            return self.fail(f"{name} must be an integer, got {raw!r}", default)
        return self._in_range(name, value, minimum, maximum, default)

    def number(self, name: str, default: float, help: str, *, minimum: float | None = 0.0) -> float:
        raw = self._raw(name, default, help)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            return self.fail(f"{name} must be a number, got {raw!r}", default)
        if value != value or value in (float("inf"), float("-inf")):
            return self.fail(f"{name} must be a finite number, got {raw!r}", default)
        return self._in_range(name, value, minimum, None, default)

    def flag(self, name: str, default: bool, help: str) -> bool:
        raw = self._raw(name, default, help)
        if raw is None:
            return default
        if raw.lower() in TRUE:
            return True
        if raw.lower() in FALSE:
            return False
        return self.fail(f"{name} must be true or false, got {raw!r}", default)

    def _in_range(self, name: str, value: Any, minimum: Any, maximum: Any, default: Any) -> Any:
        if minimum is not None and value < minimum:
            if minimum == 0:
                return self.fail(f"{name} must not be negative, got {value}", default)
            return self.fail(f"{name} must be at least {minimum}, got {value}", default)
        if maximum is not None and value > maximum:
            return self.fail(f"{name} must be at most {maximum}, got {value}", default)
        return value

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
