"""Piccolo app of the simulation domain; migrations live in migrations/simulation/."""

from piccolo.conf.apps import AppConfig

from backend.settings import ROOT
from backend.simulation.tables import SimEvent, SimRun

APP_CONFIG = AppConfig(
    app_name="simulation",
    migrations_folder_path=ROOT / "migrations" / "simulation",
    table_classes=[SimRun, SimEvent],
    migration_dependencies=[],
)
