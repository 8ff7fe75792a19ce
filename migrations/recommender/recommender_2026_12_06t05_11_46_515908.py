from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz

ID = "2026-12-06T05:11:46:515908"
VERSION = "1.38.0"
DESCRIPTION = ""


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="recommender", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="ServedTip",
        tablename="served_tip",
        column_name="reacted_at",
        db_column_name="reacted_at",
        params={"index": True},
        old_params={"index": False},
        column_class=Timestamptz,
        old_column_class=Timestamptz,
        schema=None,
    )

    return manager
