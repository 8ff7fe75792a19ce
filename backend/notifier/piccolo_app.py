"""Piccolo app of the notifier domain; migrations live in migrations/notifier/."""

from piccolo.conf.apps import AppConfig

from backend.notifier.tables import (
    PushAttempt,
    PushDecision,
    PushLearnerState,
    PushPreference,
    PushSubscription,
    PushVapidKey,
)
from backend.settings import ROOT

APP_CONFIG = AppConfig(
    app_name="notifier",
    migrations_folder_path=ROOT / "migrations" / "notifier",
    table_classes=[
        PushVapidKey,
        PushSubscription,
        PushAttempt,
        PushDecision,
        PushLearnerState,
        PushPreference,
    ],
    migration_dependencies=["backend.identity.piccolo_app"],
)
