"""The embedded path's SQLite connections stay open (ADR 0030): queries and transactions
borrow them, transactions never interleave with other tasks' statements, writers queue in the
process, and closing the pool leaves nothing open. On its own file (not the suite's)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from piccolo.engine.sqlite import TransactionType

from backend.sqlite_pool import PooledSQLiteEngine


@pytest.fixture
async def pooled(tmp_path: Path) -> AsyncIterator[PooledSQLiteEngine]:
    engine = PooledSQLiteEngine(path=str(tmp_path / "pool.sqlite3"), pool_size=3, timeout=30)
    await engine.start_connection_pool()
    await engine.run_ddl("PRAGMA journal_mode=WAL")
    await engine.run_ddl("CREATE TABLE item (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
    yield engine
    await engine.close_connection_pool()


def _pool(engine: PooledSQLiteEngine) -> object:
    pool = engine.live_pool()
    assert pool is not None
    return pool


async def test_queries_reuse_the_open_connections(pooled: PooledSQLiteEngine) -> None:
    pool = _pool(pooled)
    for n in range(20):
        await pooled.run_ddl(f"INSERT INTO item (n) VALUES ({n})")  # noqa: S608 - test data
        await pooled.run_ddl("SELECT count(*) AS c FROM item")
    assert len(pool.idle) == 1  # type: ignore[attr-defined]
    rows = await pooled.run_ddl("SELECT count(*) AS c FROM item")
    assert rows == [{"c": 20}]
    # Foreign keys are on for pooled connections, as Piccolo turns them on for its own.
    assert (await pooled.run_ddl("PRAGMA foreign_keys"))[0]["foreign_keys"] == 1


async def test_a_transaction_does_not_take_in_other_tasks_statements(
    pooled: PooledSQLiteEngine,
) -> None:
    inside = asyncio.Event()
    outside_done = asyncio.Event()

    async def rolled_back() -> None:
        with contextlib.suppress(RuntimeError):
            async with pooled.transaction(transaction_type=TransactionType.deferred):
                await pooled.run_ddl("INSERT INTO item (n) VALUES (1)")
                inside.set()
                await outside_done.wait()
                raise RuntimeError("undo")

    async def outside() -> None:
        await inside.wait()
        await pooled.run_ddl("SELECT count(*) AS c FROM item")  # on another connection
        outside_done.set()

    await asyncio.gather(rolled_back(), outside())
    assert await pooled.run_ddl("SELECT count(*) AS c FROM item") == [{"c": 0}]
    # The failed transaction's connection was given back usable or closed, never half-open.
    async with pooled.transaction():
        await pooled.run_ddl("INSERT INTO item (n) VALUES (2)")
    assert await pooled.run_ddl("SELECT n FROM item") == [{"n": 2}]


async def test_writers_queue_in_the_process_and_all_land(pooled: PooledSQLiteEngine) -> None:
    async def writer(n: int) -> None:
        async with pooled.transaction(transaction_type=TransactionType.immediate):
            rows = await pooled.run_ddl("SELECT count(*) AS c FROM item")
            await pooled.run_ddl(f"INSERT INTO item (n) VALUES ({rows[0]['c']})")  # noqa: S608

    await asyncio.gather(*(writer(n) for n in range(12)))
    rows = await pooled.run_ddl("SELECT n FROM item ORDER BY n")
    # Each writer saw every earlier one's row: the transactions ran one after another.
    assert [r["n"] for r in rows] == list(range(12))


async def test_closing_the_pool_closes_every_connection(tmp_path: Path) -> None:
    engine = PooledSQLiteEngine(path=str(tmp_path / "close.sqlite3"), pool_size=2)
    await engine.start_connection_pool()
    pool = engine.live_pool()
    assert pool is not None
    await asyncio.gather(*(engine.run_ddl("SELECT 1 AS one") for _ in range(4)))
    opened = list(pool.idle)
    assert 1 <= len(opened) <= 2
    await engine.close_connection_pool()
    assert engine.live_pool() is None
    assert all(c._connection is None for c in opened)  # closed (aiosqlite drops it)
    # Without the pool the engine is Piccolo's: a connection per query.
    assert await engine.run_ddl("SELECT 1 AS one") == [{"one": 1}]


async def test_a_statement_that_fails_half_way_leaves_no_write_lock(
    pooled: PooledSQLiteEngine, tmp_path: Path
) -> None:
    """An INSERT … RETURNING whose row cannot be read (a UUID column holding a non-UUID) has
    written but not finished: its connection must be closed before the error comes back, or
    SQLite's write lock stays held and other processes' writers wait out their busy timeout."""
    await pooled.run_ddl("CREATE TABLE marked (id UUID PRIMARY KEY)")
    with pytest.raises(ValueError, match="UUID"):
        await pooled.run_ddl("INSERT INTO marked (id) VALUES ('not-a-uuid') RETURNING id")
    # Another process's writer, with no busy timeout at all: it gets the lock at once.
    other = sqlite3.connect(tmp_path / "pool.sqlite3", timeout=0)
    try:
        other.execute("INSERT INTO item (n) VALUES (1)")
        other.commit()
    finally:
        other.close()
    rows = await pooled.run_ddl("SELECT count(*) AS c FROM item")
    assert rows == [{"c": 1}]
