"""Piccolo app of the integrations domain; migrations live in migrations/integrations/."""

from piccolo.conf.apps import AppConfig

from backend.integrations.tables import DemoTask, Integration, SourceCompletion, WebhookEndpoint
from backend.settings import ROOT

APP_CONFIG = AppConfig(
    app_name="integrations",
    migrations_folder_path=ROOT / "migrations" / "integrations",
    table_classes=[DemoTask, Integration, WebhookEndpoint, SourceCompletion],
    migration_dependencies=["backend.identity.piccolo_app"],
)
