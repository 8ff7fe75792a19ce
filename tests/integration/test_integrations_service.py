"""Integrations in-process: the task cache, closing an item exactly once, recurring tasks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from backend.events.bus import recent
from backend.integrations import jobs
from backend.integrations.demo import DemoSource
from backend.integrations.service import complete_item, forget_items, open_items
from backend.integrations.sources import get_source
from backend.integrations.tables import DemoTask
from tests.support.fixtures import make_person


async def one_task(user_id: str, recur_days: int = 0, due_days: int | None = None) -> str:
    """Insert a demo task; returns its item_ref."""
    today = datetime.now(UTC).date()
    task = DemoTask(
        user=user_id,
        project="Home",
        content=f"task {uuid.uuid4().hex[:6]}",
        due_date=None if due_days is None else today + timedelta(days=due_days),
        recur_days=recur_days,
    )
    await task.save()
    await forget_items(user_id)
    return f"demo:{task.id}"


async def task_row(item_ref: str) -> dict[str, object]:
    row = await DemoTask.select().where(DemoTask.id == item_ref.removeprefix("demo:")).first()
    assert row is not None
    return dict(row)


async def test_open_items_are_cached_until_forgotten() -> None:
    p = await make_person(seed=11)
    first = await open_items(p.user_id)
    assert len(first) >= 20
    assert {c.source for c in first} == {"demo"}
    assert all(c.item_ref.startswith("demo:") for c in first)

    await DemoTask.delete().where(DemoTask.user == p.user_id)
    cached = await open_items(p.user_id)
    assert cached == first, "the second read comes from Redis, not the database"

    await forget_items(p.user_id)
    assert await open_items(p.user_id) == []


async def test_cache_keeps_every_field() -> None:
    p = await make_person(tasks=False)
    today = datetime.now(UTC).date()
    await DemoTask(
        user=p.user_id,
        project="Health",
        content="Book the dentist",
        priority=3,
        due_date=today,
        recur_days=30,
        added_at=datetime.now(UTC) - timedelta(days=2),
    ).save()
    from_db = await open_items(p.user_id)
    from_cache = await open_items(p.user_id)
    assert from_cache == from_db
    (item,) = from_cache
    assert (item.priority, item.due_date, item.project, item.is_recurring) == (
        3,
        today,
        "Health",
        True,
    )
    assert item.added_at is not None
    assert item.added_at.tzinfo is not None


async def test_complete_item_once_per_key() -> None:
    p = await make_person(tasks=False)
    ref = await one_task(p.user_id)
    assert ref in {c.item_ref for c in await open_items(p.user_id)}

    untouched = await one_task(p.user_id)
    key = f"tip:{uuid.uuid4()}"
    ref = ref
    assert await complete_item(p.user_id, ref, once_key=key) is True
    closed_at = (await task_row(ref))["completed_at"]
    assert closed_at is not None
    assert await complete_item(p.user_id, ref, once_key=key) is False
    assert (await task_row(ref))["completed_at"] == closed_at, "closed once"
    # Closing forgets the cache: the item is gone from the next read.
    assert ref not in {c.item_ref for c in await open_items(p.user_id)}
    # Another key on an already closed task: the source says it was done already.
    assert await complete_item(p.user_id, ref, once_key=f"tip:{uuid.uuid4()}") is False
    assert (await task_row(untouched))["completed_at"] is None


async def test_failed_close_can_be_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    p = await make_person(tasks=False)
    ref = await one_task(p.user_id)
    key = f"tip:{uuid.uuid4()}"
    source = get_source("demo")
    assert isinstance(source, DemoSource)

    async def down(user_id: str, item_ref: str) -> bool:
        raise ConnectionError("source unreachable")

    monkeypatch.setattr(source, "complete", down)
    with pytest.raises(ConnectionError):
        await complete_item(p.user_id, ref, once_key=key)
    assert (await task_row(ref))["completed_at"] is None
    monkeypatch.undo()
    assert await complete_item(p.user_id, ref, once_key=key) is True
    assert (await task_row(ref))["completed_at"] is not None


@pytest.mark.parametrize(("recur_days", "due_days"), [(7, -10), (1, -3), (30, 0), (7, None)])
async def test_recurring_task_moves_forward(recur_days: int, due_days: int | None) -> None:
    p = await make_person(tasks=False)
    ref = await one_task(p.user_id, recur_days=recur_days, due_days=due_days)
    today = datetime.now(UTC).date()
    old_due = (await task_row(ref))["due_date"] or today

    assert await complete_item(p.user_id, ref, once_key=f"tip:{uuid.uuid4()}") is True
    row = await task_row(ref)
    assert row["completed_at"] is None, "a recurring task stays open"
    new_due = row["due_date"]
    assert isinstance(new_due, type(today))
    assert today < new_due <= today + timedelta(days=recur_days)
    assert (new_due - old_due).days % recur_days == 0, "stays on its cadence"
    assert ref in {c.item_ref for c in await open_items(p.user_id)}


async def test_someone_elses_task_is_not_closed() -> None:
    owner, other = await make_person(tasks=False), await make_person(tasks=False)
    ref = await one_task(owner.user_id)
    assert await complete_item(other.user_id, ref, once_key=f"tip:{uuid.uuid4()}") is False
    assert (await task_row(ref))["completed_at"] is None


async def test_complete_job_publishes_once() -> None:
    p = await make_person(tasks=False)
    ref = await one_task(p.user_id)
    tip_id = str(uuid.uuid4())
    assert await jobs.complete_item({"job_try": 1}, p.user_id, ref, tip_id) is True
    assert await jobs.complete_item({"job_try": 1}, p.user_id, ref, tip_id) is False
    events = await recent(subjects=["signals.item.completed"], user_id=p.user_id)
    assert [(e.payload["item_ref"], e.payload["ok"]) for e in events] == [(ref, True)]
