"""Piccolo app of the admin domain; migrations live in migrations/admin/."""

from piccolo.conf.apps import AppConfig

from backend.admin.freshness_tables import AdminFreshnessDay
from backend.admin.quality_tables import AdminFeatureDay, AdminSignalDay, AdminWriterDay
from backend.admin.reward_tables import AdminRewardHour
from backend.admin.sql_tables import AdminSavedQuery
from backend.admin.tables import AdminDay, AdminRollupState, AdminUserDay, AdminUserTotals
from backend.audit import AdminAudit
from backend.settings import ROOT

APP_CONFIG = AppConfig(
    app_name="admin",
    migrations_folder_path=ROOT / "migrations" / "admin",
    table_classes=[
        AdminAudit,
        AdminUserDay,
        AdminUserTotals,
        AdminDay,
        AdminRollupState,
        AdminRewardHour,
        AdminFeatureDay,
        AdminSignalDay,
        AdminWriterDay,
        AdminSavedQuery,
        AdminFreshnessDay,
    ],
    migration_dependencies=["backend.identity.piccolo_app"],
)
