"""Database engine choice: the SQLite file by default, PostgreSQL when DATABASE_URL says so."""

from __future__ import annotations

import asyncio
import logging
from string import Formatter
from typing import Any

import asyncpg
import msgspec
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.querystring import QueryString

from backend.settings import Settings, get_settings
from backend.sqlite_pool import PooledSQLiteEngine

log = logging.getLogger("oo.db")


def make_engine(settings: Settings | None = None) -> Engine[Any]:
    """Build the Piccolo engine the settings describe."""
    settings = settings or get_settings()
    if settings.uses_postgres:
        return PostgresEngine(config={"dsn": settings.database_url})
    path = settings.database_url.removeprefix("sqlite:///") or str(settings.sqlite_path)
    if not settings.database_url:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    # timeout: SQLite allows one writer; others wait for the lock instead of failing at once.
    # Pooled: connections stay open between open_pool() and close_pool() (ADR 0030).
    return PooledSQLiteEngine(path=path, timeout=30)


def engine() -> Engine[Any]:
    """The engine Piccolo's tables use (the one PICCOLO_CONF names)."""
    found = engine_finder()
    if found is None:
        raise RuntimeError("no Piccolo engine: PICCOLO_CONF names no module with DB")
    return found


def write_transaction() -> Any:
    """A transaction for writes: IMMEDIATE on SQLite so concurrent writers queue, not deadlock."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        return db.transaction(transaction_type=TransactionType.immediate)
    return db.transaction()


async def keep_session(connection: asyncpg.Connection) -> None:
    """What a pooled PostgreSQL connection gets on its way back to the pool beyond asyncpg's
    own clean-up (an open transaction rolled back, listeners dropped): nothing (ADR 0041).

    asyncpg's default sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET
    ALL` — a round trip after every statement run outside a transaction, about one in two
    of the hot path's. The app leaves no session state to undo: its advisory locks are
    transaction-scoped, its SETs are `SET LOCAL`, it neither LISTENs nor holds cursors past a
    transaction (the SQL console's statement runs in a transaction that is always rolled
    back, and refuses the advisory-lock functions)."""


async def open_pool() -> None:
    """Open the connection pool: PostgreSQL's, or this process's SQLite connections (kept
    open until close_pool, ADR 0030) with the file in WAL mode.

    WAL (kept in the file once set) lets the web process read while the embedded worker
    writes, instead of readers waiting behind every write transaction (ADR 0030).
    """
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(
            min_size=1, max_size=get_settings().db_pool_max, reset=keep_session
        )
    elif isinstance(db, SQLiteEngine):
        if isinstance(db, PooledSQLiteEngine):
            await db.start_connection_pool()
        await db.run_ddl("PRAGMA journal_mode=WAL")


POOL_CLOSE_S = 5.0


async def close_pool() -> None:
    """Close the connection pool (SQLite: this process's open connections), within POOL_CLOSE_S.

    A graceful close waits for every connection to be released; after a database restart a
    connection can hang on a socket that will never answer, so past the deadline the pool is
    terminated instead (a process must be able to exit).
    """
    db = engine()
    if isinstance(db, PooledSQLiteEngine):
        await db.close_connection_pool()
        return
    if not isinstance(db, PostgresEngine) or db.pool is None:
        return
    pool = db.pool
    try:
        await asyncio.wait_for(pool.close(), POOL_CLOSE_S)
    except (TimeoutError, OSError, asyncpg.PostgresError) as err:
        log.warning("database pool not closed cleanly (%s): terminated", type(err).__name__)
        pool.terminate()
    db.pool = None


class Prepared:
    """A statement written once as SQL, with `{}` for each value, compiled per engine once.

    Piccolo builds and compiles a query on every run (its QueryString bundles the template's
    fragments each time): 50–100 µs per statement, a dozen times in a reaction with its next
    pick (ADR 0047). A Prepared statement hands the engine the compiled text directly; the
    values are still bound parameters, never formatted into the text. Rows come back as dicts.
    """

    def __init__(self, sql: str, query_type: str = "select") -> None:
        self.sql = sql
        self.query_type = query_type
        self._fields = sum(1 for _, name, _, _ in Formatter().parse(sql) if name is not None)
        self._compiled: dict[str, str] = {}

    def query(self, *args: Any) -> QueryString:
        """The statement with these values, compiled for the current engine."""
        if len(args) != self._fields:
            raise ValueError(f"{self._fields} values expected, {len(args)} given")
        engine_type = engine().engine_type
        text = self._compiled.get(engine_type)
        if text is None:
            text = QueryString(self.sql, *args).compile_string(engine_type)[0]
            self._compiled[engine_type] = text
        found = QueryString(self.sql, *args, query_type=self.query_type)
        found._frozen_compiled_strings = (text, list(args))
        return found

    async def rows(self, *args: Any) -> list[dict[str, Any]]:
        """Run it; its rows as dicts."""
        return [dict(r) for r in await engine().run_querystring(self.query(*args))]


_JSON = msgspec.json.Decoder()


def json_value(value: Any) -> Any:
    """A JSON column's value as a raw statement returns it (text on both engines), decoded."""
    return _JSON.decode(value) if isinstance(value, str | bytes) else value
