"""The engine the settings choose: SQLite files run in WAL mode once the app opens them."""

from __future__ import annotations

import pytest
from piccolo.engine.sqlite import SQLiteEngine

from backend.db import engine, open_pool


async def test_sqlite_file_is_in_wal_mode_after_open() -> None:
    db = engine()
    if not isinstance(db, SQLiteEngine):
        pytest.skip("SQLite only (PostgreSQL has its own pool)")
    await open_pool()
    rows = await db.run_ddl("PRAGMA journal_mode")
    assert rows[0]["journal_mode"] == "wal"


async def test_a_pooled_postgres_connection_goes_back_without_a_reset_round_trip(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ADR 0041: asyncpg's default reset (a query after every pooled statement) is replaced by
    its local clean-up only; what a transaction sets locally still ends with it."""
    import asyncpg

    from backend.db import close_pool
    from backend.recommender.tables import PolicyState

    db = engine()
    if isinstance(db, SQLiteEngine):
        pytest.skip("PostgreSQL only")
    resets: list[object] = []
    real_reset = asyncpg.Connection.reset

    async def counted(self: asyncpg.Connection, *args: object, **kwargs: object) -> None:
        resets.append(self)
        await real_reset(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(asyncpg.Connection, "reset", counted)
    await open_pool()
    try:
        async with db.transaction():
            await PolicyState.raw("SET LOCAL statement_timeout = 1234")
        for _ in range(3):
            rows = await PolicyState.raw("SHOW statement_timeout")
            assert rows[0]["statement_timeout"] != "1234ms"
    finally:
        await close_pool()
    assert resets == []
