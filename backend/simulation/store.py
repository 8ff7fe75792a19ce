"""Simulation runs in the database: create, follow, finish (with sampled events), list."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from piccolo.custom_types import Combinable

from backend.contracts.json import json_object
from backend.db import write_transaction
from backend.simulation.tables import SimEvent, SimRun

EVENT_CHUNK = 500
"""Events per INSERT: 16 columns × 500 stays far below SQLite's bound-parameter limit."""

QUEUED, RUNNING, FINISHED, FAILED = "queued", "running", "finished", "failed"
TERMINAL = (FINISHED, FAILED)


@dataclass(frozen=True)
class RunView:
    """A stored run as callers see it."""

    id: str
    status: str
    source: str
    config: dict[str, Any]
    summary: dict[str, Any]
    done: int
    total: int
    error: str
    events_stored: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def _view(row: dict[str, Any]) -> RunView:
    return RunView(
        id=str(row["id"]),
        status=row["status"],
        source=row["source"],
        config=json_object(row["config"]),
        summary=json_object(row["summary"]),
        done=row["done"],
        total=row["total"],
        error=row["error"],
        events_stored=row["events_stored"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
    )


def parse_run_id(run_id: str) -> str | None:
    """The canonical form of a run id, or None when it is not one."""
    try:
        return str(uuid.UUID(str(run_id)))
    except ValueError:
        return None


async def create_run(config: dict[str, Any], source: str, total: int) -> str:
    """A queued run; returns its id."""
    row = SimRun(
        status=QUEUED, source=source, config=config, total=total, created_at=datetime.now(UTC)
    )
    async with write_transaction():
        await SimRun.insert(row)
    return str(row.id)


async def mark_running(run_id: str) -> None:
    """The run has started."""
    async with write_transaction():
        await SimRun.update({SimRun.status: RUNNING, SimRun.started_at: datetime.now(UTC)}).where(
            SimRun.id == run_id
        )


async def set_progress(run_id: str, done: int) -> None:
    """How many decisions are simulated so far (for `simulations` while a run is going)."""
    async with write_transaction():
        await SimRun.update({SimRun.done: done}).where(SimRun.id == run_id)


def _event(run_id: str, e: dict[str, Any]) -> SimEvent:
    return SimEvent(run=run_id, **e)


async def finish_run(
    run_id: str, summary: dict[str, Any], events: Sequence[dict[str, Any]], done: int
) -> None:
    """Store the summary and events, and mark the run finished (one transaction)."""
    async with write_transaction():
        for start in range(0, len(events), EVENT_CHUNK):
            chunk = events[start : start + EVENT_CHUNK]
            await SimEvent.insert(*[_event(run_id, e) for e in chunk])
        await SimRun.update(
            {
                SimRun.status: FINISHED,
                SimRun.summary: summary,
                SimRun.done: done,
                SimRun.events_stored: len(events),
                SimRun.finished_at: datetime.now(UTC),
            }
        ).where(SimRun.id == run_id)


async def fail_run(run_id: str, error: str) -> None:
    """The run stopped on an error (kept short: it is shown to admins)."""
    async with write_transaction():
        await SimRun.update(
            {
                SimRun.status: FAILED,
                SimRun.error: error[:2000],
                SimRun.finished_at: datetime.now(UTC),
            }
        ).where(SimRun.id == run_id)


async def cancel_queued(run_id: str, error: str) -> bool:
    """Mark a run that has not started as failed with `error`; False when it already started."""
    async with write_transaction():
        row = await SimRun.select(SimRun.status).where(SimRun.id == run_id).first()
        if row is None or row["status"] != QUEUED:
            return False
        await SimRun.update(
            {SimRun.status: FAILED, SimRun.error: error, SimRun.finished_at: datetime.now(UTC)}
        ).where(SimRun.id == run_id)
    return True


async def purge_ended(before: datetime) -> tuple[int, int]:
    """Delete runs that finished or failed before `before`, with their events.

    Returns (runs, events). Queued and running runs are never touched, whatever their age.
    Events go first and explicitly: SQLite enforces the cascade only with a pragma.
    """
    runs = events = 0
    async with write_transaction():
        rows = await SimRun.select(SimRun.id).where(
            SimRun.status.is_in(list(TERMINAL)) & (SimRun.finished_at < before)
        )
        ids = [r["id"] for r in rows]
        for start in range(0, len(ids), EVENT_CHUNK):  # bounded IN lists
            chunk = ids[start : start + EVENT_CHUNK]
            events += await SimEvent.count().where(SimEvent.run.is_in(chunk))
            await SimEvent.delete().where(SimEvent.run.is_in(chunk))
            await SimRun.delete().where(SimRun.id.is_in(chunk))
            runs += len(chunk)
    return runs, events


async def get_run(run_id: str) -> RunView | None:
    """One run, or None."""
    rid = parse_run_id(run_id)
    if rid is None:
        return None
    row = await SimRun.select().where(SimRun.id == rid).output(load_json=True).first()
    return _view(row) if row else None


def encode_cursor(view: RunView) -> str:
    """An opaque cursor: the run's creation time and id (a stable order)."""
    raw = f"{view.created_at.isoformat()}|{view.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, str] | None:
    try:
        at, rid = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return datetime.fromisoformat(at), rid
    except (ValueError, UnicodeDecodeError):
        return None


async def list_runs(first: int, after: str | None = None) -> tuple[list[RunView], bool]:
    """Newest first; `after` is a cursor from `encode_cursor`. Returns (runs, has_next_page)."""
    query = SimRun.select().output(load_json=True)
    position = _decode_cursor(after) if after else None
    if position is not None:
        at, rid = position
        older: Combinable = (SimRun.created_at < at) | (
            (SimRun.created_at == at) & (SimRun.id < rid)
        )
        query = query.where(older)
    rows = (
        await query.order_by(SimRun.created_at, ascending=False)
        .order_by(SimRun.id, ascending=False)
        .limit(first + 1)
    )
    return [_view(r) for r in rows[:first]], len(rows) > first


async def events_of(run_id: str, limit: int = 1000) -> list[dict[str, Any]]:
    """A run's stored events in order (tests and inspection)."""
    rows: list[dict[str, Any]] = (
        await SimEvent.select()
        .where(SimEvent.run == run_id)
        .order_by(SimEvent._meta.primary_key)
        .limit(limit)
    )
    return rows
