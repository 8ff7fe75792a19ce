"""Tasks completed in a connected app, kept for completion habits and the agents' histories.

Only derivatives are kept: which item, when, its project's name, its due date, priority, when
it was added and whether it recurs, never its title. A sync reads the completions since the
latest one kept less `OVERLAP` (completions can reach the provider late), else over the last
`FIRST_WINDOW_DAYS`; rows older than `COMPLETION_KEEP_DAYS` are deleted nightly (jobs.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from piccolo.engine.postgres import PostgresEngine

from backend.db import engine, write_transaction
from backend.integrations import todoist
from backend.integrations.errors import NeedsReconnect, RateLimited, SourceError
from backend.integrations.tables import SourceCompletion

log = logging.getLogger("oo.integrations")

COMPLETION_KEEP_DAYS = 90
"""How long a completion is kept (the longest history window read from it is 90 days)."""

FIRST_WINDOW_DAYS = 88
"""How far back the first sync reads (Todoist answers at most 3 months at once)."""

OVERLAP = timedelta(days=1)
INSERT_BATCH = 500


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _latest(user_id: str, source: str) -> datetime | None:
    row = (
        await SourceCompletion.select(SourceCompletion.completed_at)
        .where((SourceCompletion.user == user_id) & (SourceCompletion.source == source))
        .order_by(SourceCompletion.completed_at, ascending=False)
        .first()
    )
    return _utc(row["completed_at"]) if row else None


async def read_since(user_id: str, source: str, now: datetime) -> datetime:
    """Where the next read of a person's completions starts."""
    earliest = now - timedelta(days=FIRST_WINDOW_DAYS)
    latest = await _latest(user_id, source)
    return earliest if latest is None else max(earliest, latest - OVERLAP)


async def store(
    user_id: str, source: str, done: Sequence[todoist.CompletedTask], since: datetime
) -> int:
    """Insert the completions not kept yet (same item, same moment); returns how many."""
    if not done:
        return 0
    async with write_transaction():
        db = engine()
        if isinstance(db, PostgresEngine):
            # Two syncs of one person (scheduled and "sync now") must not both insert a row:
            # SQLite's immediate transaction already queues them, PostgreSQL needs a lock.
            await SourceCompletion.raw(
                "SELECT pg_advisory_xact_lock(hashtext({}))", f"completions:{user_id}:{source}"
            )
        kept = await SourceCompletion.select(
            SourceCompletion.item_ref, SourceCompletion.completed_at
        ).where(
            (SourceCompletion.user == user_id)
            & (SourceCompletion.source == source)
            & (SourceCompletion.completed_at >= _utc(since))
        )
        seen = {(r["item_ref"], _utc(r["completed_at"])) for r in kept}
        rows = []
        for c in done:
            ident = (c.item_ref[:200], _utc(c.completed_at))
            if ident in seen:
                continue
            seen.add(ident)
            rows.append(
                SourceCompletion(
                    user=user_id,
                    source=source,
                    item_ref=ident[0],
                    project=c.project[:100],
                    due_date=c.due_date,
                    completed_at=ident[1],
                    priority=c.priority,
                    added_at=_utc(c.added_at) if c.added_at else None,
                    recurring=c.recurring,
                )
            )
        for start in range(0, len(rows), INSERT_BATCH):
            await SourceCompletion.insert(*rows[start : start + INSERT_BATCH])
    return len(rows)


async def sync_todoist(
    user_id: str, client: todoist.TodoistClient, now: datetime | None = None
) -> int:
    """Keep a person's new Todoist completions, read with the sync's client; returns how
    many were new.

    A 429 or lost access is raised (the sync handles it as for the open tasks); any other
    failure only skips the completions until the next sync.
    """
    now = now or datetime.now(UTC)
    since = await read_since(user_id, todoist.PROVIDER, now)
    try:
        done = await client.completed_since(since, now)
    except (NeedsReconnect, RateLimited):
        raise
    except SourceError as err:
        log.info("todoist completions not read this sync: %s", err.reason)
        return 0
    except ValueError as err:  # a body that is not the JSON documented
        log.info("todoist completions not read this sync: %s", type(err).__name__)
        return 0
    return await store(user_id, todoist.PROVIDER, done, since)


async def record_completion(user_id: str, source: str, done: todoist.CompletedTask) -> bool:
    """Keep one completion a webhook reported (the next sync finds it kept: no duplicate)."""
    return await store(user_id, source, [done], done.completed_at) == 1


async def purge_completions(now: datetime | None = None, days: int = COMPLETION_KEEP_DAYS) -> int:
    """Delete completions older than `days`; returns how many."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    async with write_transaction():
        old = SourceCompletion.completed_at < cutoff
        count = int(await SourceCompletion.count().where(old))
        if count:
            await SourceCompletion.delete().where(old)
    return count
