"""Piccolo app of the identity domain; migrations live in migrations/identity/."""

from piccolo.conf.apps import AppConfig

from backend.settings import ROOT
from backend.identity.tables import User, ApiToken, SignInLink

APP_CONFIG = AppConfig(
    app_name="identity",
    migrations_folder_path=ROOT / "migrations" / "identity",
    table_classes=[User, ApiToken, SignInLink],
    migration_dependencies=[],
)
