"""Completed tasks, for other domains (recommender: completion habits; profile: agents' histories).

Re-exported by `backend.integrations.service`, through which other domains read it. The demo
source keeps its completions on its tasks; a connected app's are kept by its sync
(completions.py), without their titles.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from backend.contracts.sources import CompletionRecord
from backend.integrations.tables import DemoTask, SourceCompletion


async def _demo_since(user_ids: list[str], since: datetime) -> list[CompletionRecord]:
    rows = (
        await DemoTask.select(
            DemoTask.id,
            DemoTask.user,
            DemoTask.completed_at,
            DemoTask.content,
            DemoTask.project,
            DemoTask.due_date,
            DemoTask.priority,
            DemoTask.added_at,
            DemoTask.recur_days,
        )
        .where(DemoTask.user.is_in(user_ids) & (DemoTask.completed_at >= since))
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
            priority=int(r["priority"]),
            added_at=r["added_at"],
            recurring=int(r["recur_days"] or 0) > 0,
        )
        for r in rows
    ]


async def _sources_since(user_ids: list[str], since: datetime) -> list[CompletionRecord]:
    rows = (
        await SourceCompletion.select(
            SourceCompletion.user,
            SourceCompletion.completed_at,
            SourceCompletion.item_ref,
            SourceCompletion.project,
            SourceCompletion.due_date,
            SourceCompletion.priority,
            SourceCompletion.added_at,
            SourceCompletion.recurring,
        )
        .where(SourceCompletion.user.is_in(user_ids) & (SourceCompletion.completed_at >= since))
        .order_by(SourceCompletion.completed_at)
    )
    return [
        CompletionRecord(
            user_id=str(r["user"]),
            at=r["completed_at"],
            item_ref=str(r["item_ref"]),
            content="",
            project=str(r["project"]),
            due_date=r["due_date"],
            priority=int(r["priority"] or 1),
            added_at=r["added_at"],
            recurring=bool(r["recurring"]),
        )
        for r in rows
    ]


async def completions_since(user_ids: Sequence[str], since: datetime) -> list[CompletionRecord]:
    """Completed tasks of these users since a time, from every source, oldest first (two
    queries for all)."""
    if not user_ids:
        return []
    ids = list(user_ids)
    merged = [*await _demo_since(ids, since), *await _sources_since(ids, since)]
    return sorted(merged, key=lambda r: r.at)


async def users_completed_since(since: datetime) -> set[str]:
    """Ids of users who completed anything at or after `since`."""
    demo = await DemoTask.select(DemoTask.user).where(DemoTask.completed_at >= since).distinct()
    kept = (
        await SourceCompletion.select(SourceCompletion.user)
        .where(SourceCompletion.completed_at >= since)
        .distinct()
    )
    return {str(r["user"]) for r in (*demo, *kept)}
