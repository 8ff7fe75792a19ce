from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Float
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T00:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "push_decision.tip_score: the recommender's score of the tip, for the tip floor"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="notifier", description=DESCRIPTION)

    manager.add_column(
        table_class_name="PushDecision",
        tablename="push_decision",
        column_name="tip_score",
        db_column_name="tip_score",
        column_class_name="Float",
        column_class=Float,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
