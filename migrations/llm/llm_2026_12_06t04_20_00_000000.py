from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T04:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tip_candidate.blocked: why a stored candidate may not be served (kept current)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="llm", description=DESCRIPTION)

    manager.add_column(
        table_class_name="TipCandidate",
        tablename="tip_candidate",
        column_name="blocked",
        db_column_name="blocked",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 200,
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
