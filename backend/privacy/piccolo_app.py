"""Piccolo app of the privacy domain; migrations live in migrations/privacy/."""

from piccolo.conf.apps import AppConfig

from backend.privacy.tables import Consent
from backend.settings import ROOT

APP_CONFIG = AppConfig(
    app_name="privacy",
    migrations_folder_path=ROOT / "migrations" / "privacy",
    table_classes=[Consent],
    migration_dependencies=["backend.identity.piccolo_app"],
)
