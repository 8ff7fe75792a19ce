from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-06T08:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "data quality rollup indexes"

# The heatmap reads (day, person, coverage) of a period alone: an index-only scan on PostgreSQL.
# Plain SQL that SQLite and PostgreSQL both accept.
STATEMENTS = (
    'CREATE INDEX admin_signal_day_day_user_coverage ON admin_signal_day (day, "user", coverage)',
    "CREATE INDEX admin_feature_day_day_feature ON admin_feature_day (day, feature)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="admin", description=DESCRIPTION)

    async def create() -> None:
        engine = engine_finder()
        assert engine is not None
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    async def drop() -> None:
        engine = engine_finder()
        assert engine is not None
        for statement in STATEMENTS:
            await engine.run_ddl(f"DROP INDEX IF EXISTS {statement.split()[2]}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
