"""Piccolo app of the identity domain; migrations live in migrations/identity/."""

from piccolo.conf.apps import AppConfig

from backend.identity.tables import (
    ApiToken,
    ProviderCredential,
    SignInLink,
    User,
    UserIdentity,
)
from backend.settings import ROOT

APP_CONFIG = AppConfig(
    app_name="identity",
    migrations_folder_path=ROOT / "migrations" / "identity",
    table_classes=[User, ApiToken, SignInLink, UserIdentity, ProviderCredential],
    migration_dependencies=[],
)
