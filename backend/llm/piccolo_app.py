"""Piccolo app of the LLM domain; migrations live in migrations/llm/."""

from piccolo.conf.apps import AppConfig

from backend.llm.tables import LlmCall, TipCandidate
from backend.settings import ROOT

APP_CONFIG = AppConfig(
    app_name="llm",
    migrations_folder_path=ROOT / "migrations" / "llm",
    table_classes=[TipCandidate, LlmCall],
    migration_dependencies=["backend.identity.piccolo_app"],
)
