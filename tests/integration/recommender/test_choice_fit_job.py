"""The person's choice model is fitted by a worker job, never on the pick: a pick that finds no
model asks for one (once per person and quarter hour), the job keeps it, the next pick carries
it, and forgetting a person's habits forgets the model too."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import msgspec

from backend.contracts.sources import completions_since
from backend.integrations.tables import SourceCompletion
from backend.recommender import habits_cache
from backend.recommender.habits import Completion
from backend.recommender.history_fit import fit_choices
from backend.recommender.jobs import fit_choice_model
from backend.recommender.tables import ServedTip
from backend.redis import get_redis
from tests.support.fixtures import make_person
from tests.support.queued_jobs import claim, enqueued

TZ = "Europe/Berlin"


async def _history(user_id: str, now: datetime, n: int = 40) -> None:
    """n completions over the last weeks, tasks overlapping in time (so each had rivals), the
    urgent ones finished first."""
    rng = random.Random(3)
    rows = []
    for i in range(n):
        done = now - timedelta(hours=6 + 14 * i + rng.uniform(0, 4))
        priority = 4 if i % 3 == 0 else 1
        added = done - timedelta(hours=(10 if priority == 4 else 60) + rng.uniform(0, 20))
        rows.append(
            SourceCompletion(
                user=user_id,
                source="todoist",
                item_ref=f"todoist:{i}",
                project=("Work", "Home")[i % 2],
                completed_at=done,
                priority=priority,
                added_at=added,
            )
        )
    await SourceCompletion.insert(*rows)


async def test_a_pick_asks_for_the_fit_and_the_next_pick_carries_it() -> None:
    person = await make_person(tasks=False)
    now = datetime.now(UTC)
    await _history(person.user_id, now)

    first = await habits_cache.habits_of(person.user_id, TZ, now)
    assert first.choice is None, "no model before the worker fitted one"
    prefix = f"choice-fit:{person.user_id}:"
    jobs = await enqueued(prefix)
    assert [j.args for j in jobs.values()] == [(person.user_id, TZ)]
    [job_id] = jobs
    if await claim(job_id):  # else the session's worker fits it
        assert await fit_choice_model({}, person.user_id, TZ) is True

    deadline = now + timedelta(seconds=60)
    later = await habits_cache.habits_of(person.user_id, TZ, now)
    while later.choice is None and datetime.now(UTC) < deadline:
        await asyncio.sleep(0.1)
        later = await habits_cache.habits_of(person.user_id, TZ, now)
    assert later.choice is not None, "the next pick carries the fitted model"
    assert later.choice.n >= 5

    # A second miss within the quarter hour asks for nothing new: the model is fresh.
    await get_redis().delete(habits_cache.habits_key(person.user_id))
    again = await habits_cache.habits_of(person.user_id, TZ, now)
    assert again.choice == later.choice
    assert len(await enqueued(prefix)) == 1

    await habits_cache.forget_habits(person.user_id)
    assert await get_redis().get(habits_cache.habits_key(person.user_id)) is None
    gone = await get_redis().get(habits_cache.choice_key(person.user_id))
    assert gone is None, "forgetting the habits forgets the model"


async def test_the_fit_leaves_out_completions_of_tips_answered_done() -> None:
    """oO closed these tasks because the person answered its tip done: the job reads its own
    decision log and does not count them as the person's choices."""
    person = await make_person(tasks=False)
    now = datetime.now(UTC)
    await _history(person.user_id, now)
    records = await completions_since([person.user_id], now - timedelta(days=60))
    history = [
        Completion(r.at, r.project, r.due_date, r.item_ref, r.priority, r.added_at, r.recurring)
        for r in records
    ]
    assert await habits_cache.fit_and_keep(person.user_id, TZ, now)
    unprompted = fit_choices(history, TZ)
    assert unprompted is not None

    # Tips for three of the tasks, answered done seconds before the source reports them
    # completed; one more answered done for a task its person finished two days later.
    through_tips = {history[i].item_ref for i in (6, 11, 16)}
    answers = [(c.item_ref, c.at - timedelta(seconds=20)) for c in history[6:21:5]]
    late = history[30]
    answers.append((late.item_ref, late.at - timedelta(days=2)))
    await ServedTip.insert(
        *(
            ServedTip(
                user=person.user_id,
                item_ref=ref,
                source="todoist",
                content="",
                candidate_count=3,
                policy_id="random",
                policy_version="1",
                score=0.0,
                propensity=1 / 3,
                latency_ms=1.0,
                served_at=answered - timedelta(minutes=1),
                reacted_at=answered,
                reaction="done",
            )
            for ref, answered in answers
        )
    )
    assert await habits_cache.fit_and_keep(person.user_id, TZ, now)
    raw = await get_redis().get(habits_cache.choice_key(person.user_id))
    kept = msgspec.json.decode(raw, type=habits_cache.KeptChoice).model
    marked = [replace(c, prompted=c.item_ref in through_tips) for c in history]
    assert kept == fit_choices(marked, TZ)
    assert kept is not None
    assert kept.n < unprompted.n
