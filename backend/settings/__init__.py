"""Settings from the environment: every setting declared once, with its variable, default,
parser and doc, in one section per concern; `Settings` holds them all, flat.

- fields.py: `setting(env, default, doc, parse)` and the parsers (`SettingsError`, `ROOT`);
- sections.py: oO's own sections (deployment, storage, security, recommender, privacy);
- hardening.py: rate limits and the schema's visibility (ADR 0018);
- services.py: the outside services (sign-in providers, models, connected apps);
- loader.py: `Settings`, `load_settings` (the environment, then the cross-setting rules) and
  the cached `get_settings`.
"""

from backend.settings.fields import ROOT, SettingsError, setting
from backend.settings.hardening import HardeningSettings
from backend.settings.loader import Settings, get_settings, load_settings
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

__all__ = [
    "ROOT",
    "AdminSettings",
    "CoreSettings",
    "HardeningSettings",
    "IntegrationsSettings",
    "LlmSettings",
    "PrivacySettings",
    "PushSettings",
    "RecommenderSettings",
    "SecuritySettings",
    "Settings",
    "SettingsError",
    "SignInSettings",
    "StorageSettings",
    "get_settings",
    "load_settings",
    "setting",
]
