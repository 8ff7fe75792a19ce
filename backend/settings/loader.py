"""The flat `Settings` (every section) and reading the environment into it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from backend.settings.fields import SettingsError
from backend.settings.hardening import HardeningSettings
from backend.settings.sections import (
    AdminSettings,
    CoreSettings,
    PrivacySettings,
    PushSettings,
    RecommenderSettings,
    SecuritySettings,
    StorageSettings,
)
from backend.settings.services import IntegrationsSettings, LlmSettings, SignInSettings

DEVELOPMENT_KEY = "development-only-secret-key-do-not-use-in-production"


@dataclass(frozen=True, kw_only=True)
class Settings(
    CoreSettings,
    StorageSettings,
    SecuritySettings,
    HardeningSettings,
    SignInSettings,
    RecommenderSettings,
    PrivacySettings,
    AdminSettings,
    PushSettings,
    LlmSettings,
    IntegrationsSettings,
):
    """Every setting, flat: `settings.redis_url`, `Settings(port=9000)`, `replace(s, port=...)`."""

    extra: dict[str, str] = field(
        default_factory=dict,
        metadata={"doc": "Anything else read lazily by features that need it (no variable)."},
    )


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the environment (`os.environ` by default) into `Settings`.

    Raises SettingsError with one clear line naming the variable to fix."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    derived = []
    for f in fields(Settings):
        if "env" not in f.metadata:
            continue
        name = f.metadata["env"]
        raw = environ.get(name)
        raw = None if raw is None else raw.strip()
        # Set but blank: an empty text, but as if unset for numbers, switches, paths and lists.
        if raw is not None and (raw or isinstance(f.default, str)):
            values[f.name] = f.metadata["parse"](name, raw)
        elif f.metadata["derive"] is not None:
            derived.append(f)
        else:
            values[f.name] = f.default
    for f in derived:  # after the others: a derived default reads them
        values[f.name] = f.metadata["derive"](values)
    _apply_rules(values, environ)
    return Settings(**values)


def _apply_rules(values: dict[str, Any], environ: Mapping[str, str]) -> None:
    """The rules that span settings (production's needs), and the fallbacks they allow."""
    if values["env"] == "production":
        variables = {f.name: f.metadata["env"] for f in fields(Settings) if "env" in f.metadata}
        needed = ("database_url", "redis_url", "secret_keys")
        missing = [variables[name] for name in needed if not values[name]]
        if missing:
            raise SettingsError(f"OO_ENV=production needs {', '.join(missing)} to be set")
        if any(len(key) < 32 for key in values["secret_keys"]):
            raise SettingsError("each key in OO_SECRET_KEYS must be at least 32 characters")
        if values["demo_enabled"]:
            raise SettingsError("OO_DEMO cannot be enabled when OO_ENV=production")
    if not values["secret_keys"]:
        # Development only: a fixed key keeps sessions valid across restarts of `oo up`.
        values["secret_keys"] = (DEVELOPMENT_KEY,)
    key_file = environ.get("APPLE_PRIVATE_KEY_FILE", "").strip()
    if not values["apple_private_key"] and key_file:
        try:
            values["apple_private_key"] = Path(key_file).read_text()
        except OSError as err:
            raise SettingsError(f"APPLE_PRIVATE_KEY_FILE cannot be read: {err.strerror}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call `get_settings.cache_clear()`)."""
    return load_settings()
