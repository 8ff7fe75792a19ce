from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import SmallInt
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T21:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "served_tip.shadowed: how far the shadow policies have replayed a decision"

# Rows served before this migration were scored by their shadows on the request path: they
# are done (2). New rows are written with 0 by the ORM.


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="recommender", description=DESCRIPTION)

    manager.add_column(
        table_class_name="ServedTip",
        tablename="served_tip",
        column_name="shadowed",
        db_column_name="shadowed",
        column_class_name="SmallInt",
        column_class=SmallInt,
        params={
            "default": 2,
            "null": False,
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
