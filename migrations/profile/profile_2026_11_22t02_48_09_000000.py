from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T02:48:09:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite unique indexes"

# Piccolo declares single-column constraints only; the profile service's upserts target
# these composite ones. Plain SQL that SQLite and PostgreSQL both accept.
STATEMENTS = (
    'CREATE UNIQUE INDEX preference_user_scope_key ON preference ("user", scope, key)',
    'CREATE UNIQUE INDEX profile_consent_user_key ON profile_consent ("user", key)',
    'CREATE UNIQUE INDEX profile_context_user_name ON profile_context ("user", name)',
    'CREATE UNIQUE INDEX agent_output_user_agent ON agent_output ("user", agent_id)',
    'CREATE UNIQUE INDEX profile_feature_user_name ON profile_feature ("user", name)',
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="profile", description=DESCRIPTION)

    async def create() -> None:
        engine = engine_finder()
        assert engine is not None
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    async def drop() -> None:
        engine = engine_finder()
        assert engine is not None
        for statement in STATEMENTS:
            name = statement.split()[3]
            await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
