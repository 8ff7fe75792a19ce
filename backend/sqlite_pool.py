"""SQLite connections kept open for the life of the process (ADR 0030).

Piccolo's `SQLiteEngine` opens a new aiosqlite connection — a new thread, the file, a PRAGMA —
for every query outside a transaction and for every transaction; a fresh pick made a dozen.
`PooledSQLiteEngine` keeps up to `pool_size` connections open between `start_connection_pool`
and `close_connection_pool` (the web app's and the worker's lifespans, each process its own):
a query or a transaction borrows one for its whole duration and gives it back, so

- transactions never interleave: a connection serves one transaction, or one query, at a time
  (a statement outside a transaction never lands inside another task's transaction);
- writes are serialised in the process: an IMMEDIATE or EXCLUSIVE transaction, and a write
  statement outside a transaction, hold the process's write lock, so this process's writers
  queue in order on the event loop rather than in SQLite's busy handler (which sleeps up to
  100 ms between tries). Another process (the embedded worker) still meets them at SQLite's
  own lock, with the busy timeout;
- reads run side by side on their own connections (WAL: they do not wait for the writer).

Outside the pool's lifetime (migrations, CLI commands, tests calling services directly) and
on an event loop other than the pool's, the engine is Piccolo's, unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

POOL_SIZE = 8
WRITE_LOCK_TIMEOUT_S = 30.0
"""As long as SQLite's own busy timeout: past it a writer fails as SQLite would have."""


def _is_read(query: str) -> bool:
    """A plain SELECT (anything else may write: it takes the write lock)."""
    return query.lstrip()[:6].upper() == "SELECT"


class _Pool:
    """Open connections, lent one at a time; bound to the event loop that started it."""

    def __init__(self, connection_kwargs: dict[str, Any], size: int) -> None:
        self.kwargs = connection_kwargs
        self.loop = asyncio.get_running_loop()
        self.slots = asyncio.Semaphore(size)
        self.write_lock = asyncio.Lock()
        self.idle: list[aiosqlite.Connection] = []
        self.lent: set[aiosqlite.Connection] = set()
        self.closed = False
        self._closing: set[asyncio.Task[None]] = set()

    async def _open(self) -> aiosqlite.Connection:
        connection = aiosqlite.connect(**self.kwargs)
        # A pooled connection lives as long as the process: its thread must not hold the
        # interpreter open at exit when a caller forgot close_connection_pool().
        with contextlib.suppress(AttributeError):
            connection._thread.daemon = True
        await connection
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA foreign_keys = 1")  # once: it is per connection
        return connection

    @contextlib.asynccontextmanager
    async def borrow(self, write: bool) -> AsyncIterator[aiosqlite.Connection]:
        """A connection for one query or transaction (and the write lock when it writes)."""
        async with self.slots:
            if write:
                try:
                    await asyncio.wait_for(self.write_lock.acquire(), WRITE_LOCK_TIMEOUT_S)
                except TimeoutError:
                    raise sqlite3.OperationalError("database is locked") from None
            try:
                connection = self.idle.pop() if self.idle else await self._open()
                self.lent.add(connection)
                healthy = False
                try:
                    yield connection
                    healthy = True
                finally:
                    self.lent.discard(connection)
                    if healthy and not self.closed:
                        self.idle.append(connection)
                    else:  # cancelled or failed mid-use: its state is unknown, close it
                        await self._close_now(connection)
            finally:
                if write:
                    self.write_lock.release()

    async def _close_now(self, connection: aiosqlite.Connection) -> None:
        """Close a connection before its slot and the write lock are given back.

        A statement that failed half-way (an INSERT … RETURNING whose row could not be read,
        say) keeps SQLite's write lock until its connection is closed: closed later, every
        other process's writer would wait out its busy timeout meanwhile. When this task is
        being cancelled, the close still runs to the end (shielded) in the background."""
        closing = self.loop.create_task(_close_quietly(connection))
        try:
            await asyncio.shield(closing)
        except asyncio.CancelledError:
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)
            raise

    async def close(self) -> None:
        """Close the idle connections; lent ones close when they come back."""
        self.closed = True
        idle, self.idle = self.idle, []
        for connection in idle:
            await _close_quietly(connection)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)


async def _close_quietly(connection: aiosqlite.Connection) -> None:
    with contextlib.suppress(Exception):
        await connection.close()


class PooledTransaction(SQLiteTransaction):
    """Piccolo's SQLite transaction on a borrowed connection (given back, not closed)."""

    _borrowed: contextlib.AbstractAsyncContextManager[aiosqlite.Connection] | None = None

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        assert isinstance(self.engine, PooledSQLiteEngine)
        pool = self.engine.live_pool()
        if pool is None:
            return await super().__aenter__()
        writes = self.transaction_type is not TransactionType.deferred
        borrowed = pool.borrow(write=writes)
        self.connection = await borrowed.__aenter__()
        try:
            await self.begin()  # type: ignore[no-untyped-call]
        except BaseException as error:
            await borrowed.__aexit__(type(error), error, error.__traceback__)
            raise
        self._borrowed = borrowed
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        borrowed = self._borrowed
        if borrowed is None:
            return bool(await super().__aexit__(exception_type, exception, traceback))
        self._borrowed = None
        failure: BaseException | None = None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()  # type: ignore[no-untyped-call]
            elif not self._committed and not self._rolled_back:
                await self.commit()  # type: ignore[no-untyped-call]
        except BaseException as error:
            failure = error
            raise
        finally:
            self.engine.current_transaction.reset(self.context)
            bad = failure or exception
            await borrowed.__aexit__(
                type(bad) if bad else None, bad, bad.__traceback__ if bad else None
            )
        return exception is None


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine with the connection pool of the module docstring."""

    def __init__(self, path: str, pool_size: int = POOL_SIZE, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        self.pool_size = pool_size
        self.pool: _Pool | None = None

    async def start_connection_pool(self, **_: Any) -> None:
        """Keep connections open from now on (in this event loop)."""
        if self.live_pool() is None:
            self.pool = _Pool(dict(self.connection_kwargs), self.pool_size)

    async def close_connection_pool(self) -> None:
        """Close every pooled connection; queries open their own again."""
        pool, self.pool = self.pool, None
        if pool is not None:
            await pool.close()

    def live_pool(self) -> _Pool | None:
        """The pool, when it is open and belongs to the running event loop."""
        pool = self.pool
        if pool is None or pool.closed:
            return None
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            return None
        return pool if running is pool.loop else None

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> SQLiteTransaction:
        """A transaction on a pooled connection (Piccolo's own outside the pool's life)."""
        return PooledTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        pool = self.live_pool()
        if pool is None or (query_type == "insert" and self.get_version_sync() < 3.35):
            return await super()._run_in_new_connection(query, args, query_type, table)
        async with pool.borrow(write=not _is_read(query)) as connection:
            return await _fetch_all(connection, query, args)

    async def _run_in_existing_connection(
        self,
        connection: Any,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        pool = self.live_pool()
        old = query_type == "insert" and self.get_version_sync() < 3.35
        if pool is None or connection not in pool.lent or old:
            return await super()._run_in_existing_connection(
                connection, query, args, query_type, table
            )
        # A pooled connection has foreign keys on already (Piccolo re-sends the PRAGMA).
        return await _fetch_all(connection, query, args)


async def _fetch_all(connection: aiosqlite.Connection, query: str, args: list[Any] | None) -> Any:
    """Run one statement and read its rows, closing its cursor whatever happens.

    Not `execute_fetchall` (one hop fewer): when reading the rows fails (a converter refusing a
    value an INSERT … RETURNING wrote, say), its cursor lives on in the traceback, and an
    unfinalized statement keeps SQLite's write lock even past `close()` (the connection
    becomes a zombie until the statement goes) — every other process's writer then waits out
    its busy timeout. Closing the cursor finalizes the statement at once."""
    async with connection.execute(query, args or []) as cursor:
        return list(await cursor.fetchall())
