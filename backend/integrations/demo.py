"""The demo signal source: synthetic tasks a newcomer can act on without connecting anything."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from backend.contracts.candidate import Candidate
from backend.db import write_transaction
from backend.events.contracts import SignedIn
from backend.integrations.tables import DemoTask
from backend.integrations.taskgen import generate_tasks

PREFIX = "demo:"


def _as_candidate(row: dict[str, object]) -> Candidate:
    due = row["due_date"]
    added = row["added_at"]
    recur = int(str(row["recur_days"]))
    return Candidate(
        item_ref=f"{PREFIX}{row['id']}",
        source="demo",
        kind="task",
        content=str(row["content"]),
        priority=int(str(row["priority"])),
        due_date=due if isinstance(due, date) else None,
        added_at=added if isinstance(added, datetime) else None,
        project=str(row["project"]),
        is_recurring=recur > 0,
        detail={"project": str(row["project"]), "recur_days": recur},
    )


class DemoSource:
    """Tasks live in the demo_task table, standing in for what a remote app would hold."""

    name = "demo"

    async def list_items(self, user_id: str) -> list[Candidate]:
        """Open demo tasks of the user."""
        rows = await DemoTask.select().where(
            (DemoTask.user == user_id)
            & DemoTask.completed_at.is_null()
            & (DemoTask.is_deleted == False)  # noqa: E712 - Piccolo builds SQL from ==
        )
        return [_as_candidate(r) for r in rows]

    async def complete(self, user_id: str, item_ref: str) -> bool:
        """Close a task; a recurring one moves to its next date, as Todoist does."""
        task_id = item_ref.removeprefix(PREFIX)
        async with write_transaction():
            row = (
                await DemoTask.select()
                .where((DemoTask.id == task_id) & (DemoTask.user == user_id))
                .first()
            )
            if row is None or row["completed_at"] is not None:
                return False
            if row["recur_days"] > 0:
                today = datetime.now(UTC).date()
                step = timedelta(days=row["recur_days"])
                nxt = row["due_date"] or today
                while nxt <= today:
                    nxt += step
                await DemoTask.update({DemoTask.due_date: nxt}).where(DemoTask.id == task_id)
            else:
                await DemoTask.update({DemoTask.completed_at: datetime.now(UTC)}).where(
                    DemoTask.id == task_id
                )
        return True


async def seed_demo_tasks(user_id: str, seed: int | None = None) -> int:
    """Give a user a fresh set of synthetic tasks (replacing any previous demo tasks)."""
    now = datetime.now(UTC)
    tasks = generate_tasks(random.Random(seed), now)
    async with write_transaction():
        await DemoTask.delete().where(DemoTask.user == user_id)
        await DemoTask.insert(
            *[
                DemoTask(
                    user=user_id,
                    project=t.project,
                    content=t.content,
                    priority=t.priority,
                    due_date=t.due_date,
                    recur_days=t.recur_days,
                    added_at=t.added_at,
                )
                for t in tasks
            ]
        )
    return len(tasks)


async def ensure_demo_tasks(user_id: str) -> bool:
    """Seed the person's demo tasks unless they have some; True when it seeded."""
    if await DemoTask.exists().where(DemoTask.user == user_id):
        return False
    await seed_demo_tasks(user_id)
    return True


async def on_signed_in(user_id: str, event: SignedIn) -> None:
    """A demo person signing in for the first time gets realistic tasks to be served."""
    if event.demo:
        await ensure_demo_tasks(user_id)
