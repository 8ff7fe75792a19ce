"""Piccolo app of the recommender domain; migrations live in migrations/recommender/."""

from piccolo.conf.apps import AppConfig

from backend.recommender.tables import (
    Feedback,
    Outbox,
    PolicyRegistry,
    PolicyState,
    PopulationState,
    ServedTip,
    ShadowDecision,
    Snooze,
)
from backend.settings import ROOT

APP_CONFIG = AppConfig(
    app_name="recommender",
    migrations_folder_path=ROOT / "migrations" / "recommender",
    table_classes=[
        ServedTip,
        Feedback,
        PolicyState,
        Snooze,
        PolicyRegistry,
        ShadowDecision,
        PopulationState,
        Outbox,
    ],
    migration_dependencies=["backend.identity.piccolo_app"],
)
