"""Count what a block of code asks Redis and the database: round trips and queries.

Only calls made from the counting block's own context (and tasks it starts) are counted, so a
background task of another test is never charged to this one. Counts, not timings: a test may
assert how many round trips a request makes, never how long they take.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass
class Counts:
    """What was sent: one entry per Redis round trip (its command), per SQL query, and per
    transaction begun (BEGIN and COMMIT are sent outside the engine's query path)."""

    redis: list[str] = field(default_factory=list)
    sql: list[str] = field(default_factory=list)
    transactions: list[str] = field(default_factory=list)


_active: contextvars.ContextVar[Counts | None] = contextvars.ContextVar("counting", default=None)


def _redis_name(args: tuple[Any, ...]) -> str:
    if len(args) > 1 and isinstance(args[1], str | bytes):
        return str(args[1])
    stack = getattr(args[0], "command_stack", [])
    return "PIPELINE " + " ".join(str((getattr(c, "args", None) or c[0])[0]) for c in stack)


def _wrap(kind: str, original: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    async def counted(*args: Any, **kwargs: Any) -> Any:
        counts = _active.get()
        if counts is not None:
            if kind == "redis":
                counts.redis.append(_redis_name(args))
            elif kind == "transaction":
                counts.transactions.append(type(args[0]).__name__)
            else:
                counts.sql.append(" ".join(str(args[1]).split()))  # rendered, values included
        return await original(*args, **kwargs)

    return counted


@pytest.fixture
def count_round_trips(monkeypatch: pytest.MonkeyPatch) -> Callable[[], Any]:
    """`with count_round_trips() as counts:` — Redis round trips and SQL queries in the block."""
    from piccolo.engine.postgres import PostgresTransaction
    from piccolo.engine.sqlite import SQLiteTransaction
    from redis.asyncio.client import Pipeline, Redis

    from backend.db import engine

    monkeypatch.setattr(Redis, "execute_command", _wrap("redis", Redis.execute_command))
    monkeypatch.setattr(Pipeline, "execute", _wrap("redis", Pipeline.execute))
    engine_class = type(engine())
    monkeypatch.setattr(engine_class, "run_querystring", _wrap("sql", engine_class.run_querystring))
    for transaction in (SQLiteTransaction, PostgresTransaction):
        monkeypatch.setattr(transaction, "begin", _wrap("transaction", transaction.begin))

    @contextlib.contextmanager
    def block() -> Iterator[Counts]:
        counts = Counts()
        reset = _active.set(counts)
        try:
            yield counts
        finally:
            _active.reset(reset)

    return block
