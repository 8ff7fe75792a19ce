"""How one setting is declared (`setting`) and the parsers that read its variable."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import field
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[2]
"""The repository root (this file is backend/settings/fields.py)."""

T = TypeVar("T")
Parse = Callable[[str, str], Any]
"""A parser: (variable name, its value stripped) -> the setting; raises SettingsError."""


class SettingsError(Exception):
    """A setting is missing or malformed; the message says what to set."""


def setting(
    env: str,
    default: T,
    doc: str,
    parse: Parse | None = None,
    *,
    derive: Callable[[Mapping[str, Any]], T] | None = None,
) -> T:
    """A dataclass field read from the variable `env` and parsed by `parse` (by default: by the
    type of `default`). Unset, it takes `default`, or `derive(the other settings)` when given.
    Set but blank, a text setting is empty and any other kind is as if unset."""
    metadata = {"env": env, "doc": doc, "parse": parse or _parser_for(default), "derive": derive}
    return field(default=default, metadata=metadata)


def text(name: str, raw: str) -> str:
    return raw


def lowered(name: str, raw: str) -> str:
    return raw.lower()


def base_url(name: str, raw: str) -> str:
    """A URL other paths are appended to: no trailing slash."""
    return raw.rstrip("/")


def pem(name: str, raw: str) -> str:
    """PEM text in one line: `\\n` stands for a line break."""
    return raw.replace("\\n", "\n")


def whole(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None


def switch(name: str, raw: str) -> bool:
    value = raw.lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {value!r}")


def comma_list(name: str, raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def path(name: str, raw: str) -> Path:
    return Path(raw)


def clamped(low: int, high: int | None = None) -> Parse:
    """A whole number brought into low..high (no upper bound when `high` is None)."""

    def parse(name: str, raw: str) -> int:
        value = max(low, whole(name, raw))
        return value if high is None else min(value, high)

    return parse


def between(low: int, high: int, unit: str) -> Parse:
    """A whole number refused outside low..high."""

    def parse(name: str, raw: str) -> int:
        value = whole(name, raw)
        if not low <= value <= high:
            raise SettingsError(f"{name} must be between {low} and {high} ({unit})")
        return value

    return parse


def one_of(*options: str, echo: bool = False) -> Parse:
    """One of `options`, in any case; `echo` quotes a refused value in the message."""

    def parse(name: str, raw: str) -> str:
        value = raw.lower()
        if value not in options:
            got = f", got {value!r}" if echo else ""
            raise SettingsError(f"{name} must be {', '.join(options[:-1])} or {options[-1]}{got}")
        return value

    return parse


def url_scheme(*prefixes: str, hint: str) -> Parse:
    """Empty, or a URL starting with one of `prefixes` (else: "must start with `hint`")."""

    def parse(name: str, raw: str) -> str:
        if raw and not raw.startswith(prefixes):
            raise SettingsError(f"{name} must start with {hint}")
        return raw

    return parse


def _parser_for(default: object) -> Parse:
    if isinstance(default, bool):
        return switch
    if isinstance(default, int):
        return whole
    if isinstance(default, Path):
        return path
    if isinstance(default, tuple):
        return comma_list
    return text
