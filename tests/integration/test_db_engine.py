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
