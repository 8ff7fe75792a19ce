"""A pick keeps its candidates' columns while the source has not synced, and sees a task added
or closed at the next sync (backend/recommender/candidate_columns.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from backend.integrations import service as integrations
from backend.integrations.tables import DemoTask
from backend.recommender import service
from backend.recommender.candidate_columns import COLUMNS, MIN_CACHED_LENGTH
from backend.recommender.reward import Action
from backend.recommender.tables import ServedTip
from tests.integration.recommender.conftest import person_with_tasks

TASKS = [(f"Task {i}", 1 + i % 4) for i in range(MIN_CACHED_LENGTH + 8)]


async def _logged_refs(tip_id: str) -> list[str]:
    row = (
        await ServedTip.select(ServedTip.candidates)
        .where(ServedTip.id == tip_id)
        .output(load_json=True)
        .first()
    )
    assert row is not None
    refs = row["candidates"]["refs"]
    assert isinstance(refs, list)
    return [str(r) for r in refs]


async def test_the_next_pick_sees_a_task_added_and_one_closed_at_the_sync() -> None:
    user = await person_with_tasks(*TASKS)
    first = await service.current_tip(user)
    assert first is not None
    first_refs = await _logged_refs(first.id)
    assert len(first_refs) == len(TASKS)

    await service.react(user, first.id, Action.SNOOZE, 2_000)
    built = COLUMNS.built
    second = await service.current_tip(user)
    assert second is not None
    second_refs = await _logged_refs(second.id)
    assert set(second_refs) == set(first_refs) - {first.item_ref}, "the snoozed one is out"
    assert COLUMNS.built == built, "no sync between the picks: the same columns"

    closed = next(r for r in second_refs if r != second.item_ref)
    now = datetime.now(UTC)
    await DemoTask.update({DemoTask.completed_at: now}).where(
        DemoTask.id == closed.removeprefix("demo:")
    )
    added = DemoTask(user=user.user_id, project="Work", content="A new task", added_at=now)
    await added.save()
    await integrations.sync(user.user_id, "demo")

    await service.react(user, second.id, Action.SNOOZE, 2_000)
    third = await service.current_tip(user)
    assert third is not None
    third_refs = await _logged_refs(third.id)
    assert f"demo:{added.id}" in third_refs, "the task added at the source is a candidate"
    assert closed not in third_refs, "the task closed at the source is not"
    assert set(third_refs) == (set(second_refs) - {closed, second.item_ref}) | {f"demo:{added.id}"}
    assert COLUMNS.built == built + 1, "built once for the new sync"


async def test_a_task_closed_without_a_sync_is_still_hidden_once_answered_done() -> None:
    user = await person_with_tasks(*TASKS)
    first = await service.current_tip(user)
    assert first is not None
    await service.react(user, first.id, Action.DONE, 2_000)
    second = await service.current_tip(user)
    assert second is not None
    assert first.item_ref not in await _logged_refs(second.id), "done: out of the next pick"
