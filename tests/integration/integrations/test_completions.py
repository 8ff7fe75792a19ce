"""Kept completions in-process: storing without duplicates, where the next read starts, the
merged history, and the nightly retention purge."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from backend.integrations.completions import (
    COMPLETION_KEEP_DAYS,
    FIRST_WINDOW_DAYS,
    purge_completions,
    read_since,
    store,
)
from backend.integrations.history import completions_since, users_completed_since
from backend.integrations.tables import DemoTask, SourceCompletion
from backend.integrations.todoist import CompletedTask
from tests.support.fixtures import make_person


def _done(ref: str, at: datetime, project: str = "Work", due: date | None = None) -> CompletedTask:
    return CompletedTask(item_ref=f"todoist:{ref}", project=project, due_date=due, completed_at=at)


async def _kept(user_id: str) -> list[tuple[str, datetime]]:
    rows = (
        await SourceCompletion.select(SourceCompletion.item_ref, SourceCompletion.completed_at)
        .where(SourceCompletion.user == user_id)
        .order_by(SourceCompletion.completed_at)
    )
    return [(r["item_ref"], r["completed_at"]) for r in rows]


async def test_store_skips_what_is_kept_and_the_next_read_overlaps_a_day() -> None:
    p = await make_person(tasks=False)
    now = datetime.now(UTC).replace(microsecond=123456)
    assert await read_since(p.user_id, "todoist", now) == now - timedelta(days=FIRST_WINDOW_DAYS)

    first = now - timedelta(days=3)
    batch = [
        _done("a", first),
        _done("r", now - timedelta(days=2), "Health"),
        _done("r", now - timedelta(days=1), "Health"),  # a recurring task, again
        _done("r", now - timedelta(days=1), "Health"),  # the same completion twice in a batch
    ]
    assert await store(p.user_id, "todoist", batch, first) == 3
    assert await store(p.user_id, "todoist", batch, first) == 0
    later = [*batch, _done("b", now - timedelta(hours=1), due=now.date())]
    assert await store(p.user_id, "todoist", later, first) == 1
    assert await _kept(p.user_id) == [
        ("todoist:a", first),
        ("todoist:r", now - timedelta(days=2)),
        ("todoist:r", now - timedelta(days=1)),
        ("todoist:b", now - timedelta(hours=1)),
    ]
    assert await read_since(p.user_id, "todoist", now) == now - timedelta(days=1, hours=1)
    # Another source's rows, or a long gap, do not move the window past Todoist's 3 months.
    assert await read_since(p.user_id, "other", now) == now - timedelta(days=FIRST_WINDOW_DAYS)
    much_later = now + timedelta(days=200)
    assert await read_since(p.user_id, "todoist", much_later) == much_later - timedelta(
        days=FIRST_WINDOW_DAYS
    )


async def test_two_syncs_storing_at_once_keep_one_row_each() -> None:
    p = await make_person(tasks=False)
    now = datetime.now(UTC)
    batch = [_done(str(i), now - timedelta(hours=i)) for i in range(1, 6)]
    since = now - timedelta(days=1)
    counts = await asyncio.gather(*[store(p.user_id, "todoist", batch, since) for _ in range(3)])
    assert sorted(counts) == [0, 0, 5]
    assert len(await _kept(p.user_id)) == 5


async def test_history_merges_demo_and_source_completions_oldest_first() -> None:
    p = await make_person(tasks=False)
    only_source = await make_person(tasks=False)
    now = datetime.now(UTC)
    await DemoTask.insert(
        DemoTask(
            user=p.user_id,
            project="Garden",
            content="Mow the lawn",
            completed_at=now - timedelta(days=2),
        ),
        DemoTask(user=p.user_id, project="Garden", content="Never done"),
    )
    await store(
        p.user_id,
        "todoist",
        [
            _done("x", now - timedelta(days=3), "Work", now.date() - timedelta(days=4)),
            _done("y", now - timedelta(days=1), "Home"),
            _done("old", now - timedelta(days=60), "Home"),
        ],
        now - timedelta(days=88),
    )
    await store(only_source.user_id, "todoist", [_done("z", now)], now - timedelta(days=1))

    history = await completions_since([p.user_id], now - timedelta(days=45))
    assert [(r.item_ref.split(":")[0], r.project, r.content) for r in history] == [
        ("todoist", "Work", ""),
        ("demo", "Garden", "Mow the lawn"),
        ("todoist", "Home", ""),
    ]
    assert history[0].due_date == now.date() - timedelta(days=4)
    assert {r.user_id for r in history} == {p.user_id}
    both = await completions_since([p.user_id, only_source.user_id], now - timedelta(days=45))
    assert [r.at for r in both] == sorted(r.at for r in both)
    assert len(both) == 4

    recent = await users_completed_since(now - timedelta(hours=1))
    assert only_source.user_id in recent
    assert p.user_id not in recent
    assert p.user_id in await users_completed_since(now - timedelta(days=2, hours=1))


async def test_purge_deletes_completions_past_retention_and_keeps_recent_ones() -> None:
    p = await make_person(tasks=False)
    now = datetime.now(UTC)
    ages = [200, COMPLETION_KEEP_DAYS + 1, COMPLETION_KEEP_DAYS - 1, 1]
    await SourceCompletion.insert(
        *[
            SourceCompletion(
                user=p.user_id,
                source="todoist",
                item_ref=f"todoist:{days}",
                project="Work",
                completed_at=now - timedelta(days=days),
            )
            for days in ages
        ]
    )
    kept = [f"todoist:{COMPLETION_KEEP_DAYS - 1}", "todoist:1"]
    assert await purge_completions(now) >= 2  # other tests' rows may be old too
    assert [ref for ref, _ in await _kept(p.user_id)] == kept
    await purge_completions(now)
    assert [ref for ref, _ in await _kept(p.user_id)] == kept


def test_purge_runs_nightly_in_the_worker() -> None:
    from worker.settings import WorkerSettings

    crons = {c.name: c for c in WorkerSettings.cron_jobs}
    job = crons["integrations.purge_completions"]
    assert job.hour == {3}
    assert job.minute == {23}
    assert job.unique
    assert not job.run_at_startup
