from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-06T04:23:07:000000"
VERSION = "1.38.0"
DESCRIPTION = "tip_history: copy in the existing decision log once"

# Existing decision logs are copied in once; afterwards the profile keeps the table current
# from the bus. The recommender's tables may not exist yet on a fresh database (nothing to copy).
BACKFILL_POSTGRES = """
INSERT INTO tip_history
    (tip_id, "user", item_ref, content, project, due_date, served_at, action, reacted_at)
SELECT s.id, s."user", s.item_ref, s.content, COALESCE(s.project, ''),
       CASE WHEN (s.detail::json ->> 'due_date') ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
            THEN (s.detail::json ->> 'due_date')::date END,
       s.served_at, f.action, f.created_at
FROM served_tip s LEFT JOIN feedback f ON f.tip = s.id
ON CONFLICT DO NOTHING
"""
BACKFILL_SQLITE = """
INSERT OR IGNORE INTO tip_history
    (tip_id, "user", item_ref, content, project, due_date, served_at, action, reacted_at)
SELECT s.id, s."user", s.item_ref, s.content, COALESCE(s.project, ''),
       json_extract(s.detail, '$.due_date'), s.served_at, f.action, f.created_at
FROM served_tip s LEFT JOIN feedback f ON f.tip = s.id
"""


async def backfill() -> None:
    engine = engine_finder()
    assert engine is not None
    if isinstance(engine, PostgresEngine):
        found = await engine.run_ddl("SELECT to_regclass('served_tip') AS t")
        if found and found[0]["t"]:
            await engine.run_ddl(BACKFILL_POSTGRES)
        return
    found = await engine.run_ddl(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'served_tip'"
    )
    if found:
        await engine.run_ddl(BACKFILL_SQLITE)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="profile", description=DESCRIPTION)
    manager.add_raw(backfill)
    return manager
