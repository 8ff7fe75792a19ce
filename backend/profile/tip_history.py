"""The profile's read model of served tips and reactions, kept current from the event bus.

The recommender publishes `signals.tip.served` and `signals.tip.feedback`; these handlers (run
in the publishing process, see backend/events/handlers.py) keep `tip_history` current, so the
agents' histories and the profile features read profile's own table — never the recommender's.
Both handlers are idempotent: a replayed event changes nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import asyncpg
from piccolo.query.functions.aggregate import Count

from backend.events.contracts import TipFeedback, TipServed
from backend.profile.tables import TipHistory


@dataclass(frozen=True)
class ReactionRecord:
    """A reaction to a served tip, as the agents read history."""

    user_id: str
    at: datetime
    item_ref: str
    action: str
    content: str
    project: str
    due_date: date | None


def _time(raw: str) -> datetime:
    return datetime.fromisoformat(raw) if raw else datetime.now(UTC)


async def on_tip_served(user_id: str, event: TipServed) -> None:
    """A tip was served: one history row (kept once, whatever the replays)."""
    try:
        await TipHistory(
            tip_id=event.tip_id,
            user=user_id,
            item_ref=event.item_ref,
            content=event.content,
            project=event.project,
            due_date=date.fromisoformat(event.due_date) if event.due_date else None,
            served_at=_time(event.served_at),
        ).save()
    except (asyncpg.UniqueViolationError, sqlite3.IntegrityError):
        return  # already kept (a replay, or its reaction came first): one row stands


async def on_tip_feedback(user_id: str, event: TipFeedback) -> None:
    """A tip got its reaction (in oO, or completed at its source)."""
    at = _time(event.reacted_at)
    updated = (
        await TipHistory.update({TipHistory.action: event.action, TipHistory.reacted_at: at})
        .where(TipHistory.tip_id == event.tip_id)
        .returning(TipHistory.tip_id)
    )
    if updated:
        return
    try:  # the served event was never seen (published before this read model existed)
        await TipHistory(
            tip_id=event.tip_id,
            user=user_id,
            item_ref=event.item_ref,
            served_at=at,
            action=event.action,
            reacted_at=at,
        ).save()
    except (asyncpg.UniqueViolationError, sqlite3.IntegrityError):
        return


async def reactions_since(user_ids: Sequence[str], since: datetime) -> list[ReactionRecord]:
    """Reactions of these people since a time, oldest first (one query for all)."""
    if not user_ids:
        return []
    rows = (
        await TipHistory.select(
            TipHistory.user,
            TipHistory.action,
            TipHistory.reacted_at,
            TipHistory.item_ref,
            TipHistory.content,
            TipHistory.project,
            TipHistory.due_date,
        )
        .where(TipHistory.user.is_in(list(user_ids)) & (TipHistory.reacted_at >= since))
        .order_by(TipHistory.reacted_at)
    )
    return [
        ReactionRecord(
            user_id=str(r["user"]),
            at=r["reacted_at"],
            item_ref=str(r["item_ref"]),
            action=str(r["action"]),
            content=str(r["content"]),
            project=str(r["project"] or ""),
            due_date=r["due_date"],
        )
        for r in rows
    ]


async def served_counts_since(user_ids: Sequence[str], since: datetime) -> dict[str, int]:
    """How many tips each of these people was served since a time (one query for all)."""
    if not user_ids:
        return {}
    rows = (
        await TipHistory.select(TipHistory.user, Count(alias="n"))
        .where(TipHistory.user.is_in(list(user_ids)) & (TipHistory.served_at >= since))
        .group_by(TipHistory.user)
    )
    return {str(r["user"]): int(r["n"]) for r in rows}


async def users_served_since(since: datetime) -> set[str]:
    """Ids of people served a tip at or after `since` (the profile's "active" people)."""
    rows = await TipHistory.select(TipHistory.user).where(TipHistory.served_at >= since).distinct()
    return {str(r["user"]) for r in rows}
