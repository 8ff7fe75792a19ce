"""Piccolo app of the profile domain; migrations live in migrations/profile/."""

from piccolo.conf.apps import AppConfig

from backend.profile.tables import (
    AgentOutput,
    FeatureValue,
    Preference,
    ProfileConsent,
    ProfileContext,
    TipHistory,
)
from backend.settings import ROOT

APP_CONFIG = AppConfig(
    app_name="profile",
    migrations_folder_path=ROOT / "migrations" / "profile",
    table_classes=[
        Preference,
        ProfileConsent,
        ProfileContext,
        AgentOutput,
        FeatureValue,
        TipHistory,
    ],
    migration_dependencies=["backend.identity.piccolo_app"],
)
