from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T21:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "served_tip_shadow_pending: the shadow replay's work, as a partial index"

# Only the replay's work: decisions not scored yet, and scored ones whose reward came in.
# Plain SQL that SQLite and PostgreSQL both accept (a migration of its own: a migration's raw
# steps run before its column changes).
INDEX = (
    "CREATE INDEX served_tip_shadow_pending ON served_tip (served_at) "
    "WHERE shadowed = 0 OR (shadowed = 1 AND reward IS NOT NULL)"
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="recommender", description=DESCRIPTION)

    async def create() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(INDEX)

    async def drop() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl("DROP INDEX IF EXISTS served_tip_shadow_pending")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
