"""Completed tasks, for other domains (profile: agents' histories).

Re-exported by `backend.integrations.service`, through which other domains read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from backend.integrations.tables import DemoTask


@dataclass(frozen=True)
class CompletionRecord:
    """A task the person completed at its source."""

    user_id: str
    at: datetime
    item_ref: str
    content: str
    project: str
    due_date: date | None


async def completions_since(user_ids: Sequence[str], since: datetime) -> list[CompletionRecord]:
    """Completed tasks of these users since a time, oldest first (one query for all).

    Today the demo source keeps completions here; a connected app's completions join this
    list when its sync stores them.
    """
    if not user_ids:
        return []
    rows = (
        await DemoTask.select(
            DemoTask.id,
            DemoTask.user,
            DemoTask.completed_at,
            DemoTask.content,
            DemoTask.project,
            DemoTask.due_date,
        )
        .where(DemoTask.user.is_in(list(user_ids)) & (DemoTask.completed_at >= since))
        .order_by(DemoTask.completed_at)
    )
    return [
        CompletionRecord(
            user_id=str(r["user"]),
            at=r["completed_at"],
            item_ref=f"demo:{r['id']}",
            content=str(r["content"]),
            project=str(r["project"]),
            due_date=r["due_date"],
        )
        for r in rows
    ]


async def users_completed_since(since: datetime) -> set[str]:
    """Ids of users who completed anything at or after `since`."""
    rows = await DemoTask.select(DemoTask.user).where(DemoTask.completed_at >= since).distinct()
    return {str(r["user"]) for r in rows}
