"""The recommender service in-process: snoozes, dismissals, one reaction, one transaction."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from backend.identity.service import Principal, principal_for_user
from backend.integrations.service import forget_items
from backend.integrations.tables import DemoTask
from backend.recommender import service, tip_cache
from backend.recommender.candidate_log import logged_rows
from backend.recommender.reward import Action
from backend.recommender.tables import Feedback, PolicyState, ServedTip, Snooze
from backend.settings import get_settings
from tests.support.fixtures import make_person


async def principal(user_id: str) -> Principal:
    p = await principal_for_user(user_id, "token")
    assert p is not None
    return p


async def person_with_tasks(*contents: str) -> Principal:
    """A person whose only open items are these demo tasks."""
    p = await make_person(tasks=False)
    now = datetime.now(UTC)
    await DemoTask.insert(
        *[
            DemoTask(user=p.user_id, project="Home", content=c, priority=2, added_at=now)
            for c in contents
        ]
    )
    await forget_items(p.user_id)
    return await principal(p.user_id)


async def policy_updates(user_id: str) -> set[int]:
    """The update counts of the user's policy states (one row per running policy)."""
    rows = await PolicyState.select(PolicyState.policy_id, PolicyState.updates).where(
        PolicyState.user == user_id
    )
    assert len({r["policy_id"] for r in rows}) == len(rows), "one state row per policy"
    return {r["updates"] for r in rows}


def break_state_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make storing the learned policy state fail (the reaction's writes go together, ADR 0041:
    the write that carries the states fails)."""
    from backend.recommender import reaction_write

    real_write = reaction_write.write

    async def broken(statements: list[reaction_write.Write]) -> None:
        if any(statement.table is PolicyState for statement in statements):
            raise RuntimeError("state store down")
        await real_write(statements)

    monkeypatch.setattr(reaction_write, "write", broken)


@pytest.mark.parametrize(
    ("action", "hide_s"),
    [(Action.SNOOZE, get_settings().snooze_s), (Action.DISMISS, get_settings().dismiss_s)],
)
async def test_hidden_until_the_time_passes(action: Action, hide_s: int) -> None:
    user = await person_with_tasks("Water the plants")
    tip = await service.current_tip(user)
    assert tip is not None
    before = datetime.now(UTC)
    await service.react(user, tip.id, action, 5_000)

    assert await service.current_tip(user) is None, "the only item is hidden"
    snooze = await Snooze.select().where(Snooze.user == user.user_id).first()
    assert snooze is not None
    assert snooze["item_ref"] == tip.item_ref
    assert snooze["reason"] == action.value
    expected = before + timedelta(seconds=hide_s)
    assert abs((snooze["until"] - expected).total_seconds()) < 5

    await Snooze.update({Snooze.until: datetime.now(UTC) - timedelta(seconds=1)}).where(
        Snooze.user == user.user_id
    )
    again = await service.current_tip(user)
    assert again is not None
    assert again.item_ref == tip.item_ref
    assert again.id != tip.id, "a new decision is logged"


async def test_snoozed_item_is_skipped_while_others_are_served() -> None:
    user = await person_with_tasks("Call the plumber", "Book the dentist")
    first = await service.current_tip(user)
    assert first is not None
    await service.react(user, first.id, Action.SNOOZE, 2_000)
    second = await service.current_tip(user)
    assert second is not None
    assert second.item_ref != first.item_ref
    await service.react(user, second.id, Action.DISMISS, 2_000)
    assert await service.current_tip(user) is None


async def test_done_does_not_hide_but_the_tip_is_answered() -> None:
    user = await person_with_tasks("Descale the kettle")
    tip = await service.current_tip(user)
    assert tip is not None
    reaction = await service.react(user, tip.id, Action.DONE, 30_000)
    assert (reaction.reward, reaction.dwell_source) == (1.0, "client")
    assert await Snooze.count().where(Snooze.user == user.user_id) == 0
    row = await ServedTip.select(ServedTip.reacted_at).where(ServedTip.id == tip.id).first()
    assert row is not None
    assert row["reacted_at"] is not None


async def test_unanswered_tip_is_stable_and_logged_once() -> None:
    user = await person_with_tasks("A", "B", "C", "D")
    first = await service.current_tip(user)
    assert first is not None
    results = await asyncio.gather(*[service.current_tip(user) for _ in range(5)])
    assert {r.id for r in results if r} == {first.id}
    assert await ServedTip.count().where(ServedTip.user == user.user_id) == 1
    row = await ServedTip.select().where(ServedTip.id == first.id).output(load_json=True).first()
    assert row is not None
    assert row["candidate_count"] == 4
    assert row["propensity"] == pytest.approx(0.25)
    assert (row["policy_id"], row["policy_version"]) == ("random", "1")
    assert set(row["features"]) >= {"is_overdue", "due_today", "task_age_days", "priority"}


async def test_policy_state_counts_each_reaction() -> None:
    user = await person_with_tasks("A", "B", "C")
    for expected in (1, 2, 3):
        tip = await service.current_tip(user)
        assert tip is not None
        await service.react(user, tip.id, Action.DISMISS, 1_000)
        assert await policy_updates(user.user_id) == {expected}
    assert await Feedback.count().where(Feedback.user == user.user_id) == 3


async def test_policy_update_failure_rolls_back_the_reaction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = await person_with_tasks("Renew the car insurance")
    tip = await service.current_tip(user)
    assert tip is not None

    break_state_store(monkeypatch)
    with pytest.raises(RuntimeError, match="state store down"):
        await service.react(user, tip.id, Action.SNOOZE, 3_000)

    # Feedback, the reacted mark and the snooze share the policy update's transaction.
    assert await Feedback.count().where(Feedback.tip == tip.id) == 0
    assert await Snooze.count().where(Snooze.user == user.user_id) == 0
    row = await ServedTip.select(ServedTip.reacted_at).where(ServedTip.id == tip.id).first()
    assert row is not None
    assert row["reacted_at"] is None
    assert await policy_updates(user.user_id) == set()

    monkeypatch.undo()
    reaction = await service.react(user, tip.id, Action.SNOOZE, 3_000)
    assert reaction.reward == 0.1
    assert await policy_updates(user.user_id) == {1}


async def test_concurrent_reactions_count_once() -> None:
    user = await person_with_tasks("Pay the electricity bill")
    tip = await service.current_tip(user)
    assert tip is not None
    results = await asyncio.gather(
        *[service.react(user, tip.id, Action.DONE, 20_000) for _ in range(4)],
        return_exceptions=True,
    )
    ok = [r for r in results if isinstance(r, service.Reaction)]
    refused = [r for r in results if isinstance(r, service.ReactionError)]
    assert len(ok) == 1, results
    assert len(refused) == 3, results
    assert {r.code for r in refused} == {"ALREADY_REACTED"}
    assert await Feedback.count().where(Feedback.tip == tip.id) == 1
    assert await policy_updates(user.user_id) == {1}


async def test_server_dwell_is_capped_for_an_old_tip() -> None:
    user = await person_with_tasks("Sort the post")
    tip = await service.current_tip(user)
    assert tip is not None
    # Still valid (within OO_TIP_VALID) but served long ago for the dwell clock.
    await ServedTip.update({ServedTip.served_at: datetime.now(UTC) - timedelta(hours=5)}).where(
        ServedTip.id == tip.id
    )
    reaction = await service.react(user, tip.id, Action.DONE, None)
    assert reaction.dwell_source == "server"
    assert 5 * 3600 * 1000 - 1000 <= reaction.dwell_ms <= 5 * 3600 * 1000 + 60_000
    assert reaction.reward == 0.3


async def test_expired_unanswered_tip_is_replaced() -> None:
    user = await person_with_tasks("Only task")
    tip = await service.current_tip(user)
    assert tip is not None
    old = datetime.now(UTC) - timedelta(seconds=get_settings().tip_valid_s + 60)
    await ServedTip.update({ServedTip.served_at: old}).where(ServedTip.id == tip.id)
    # The serve cached the tip as served (ADR 0041); the clock moved behind the cache's back.
    await tip_cache.drop(user.user_id)
    fresh = await service.current_tip(user)
    assert fresh is not None
    assert fresh.id != tip.id
    assert fresh.item_ref == tip.item_ref


async def test_tip_detail_reflects_the_task() -> None:
    p = await make_person(tasks=False)
    today = datetime.now(UTC).date()
    await DemoTask(
        user=p.user_id,
        project="Errands",
        content="Return the parcel",
        priority=4,
        due_date=today - timedelta(days=3),
        recur_days=7,
    ).save()
    user = await principal(p.user_id)
    tip = await service.current_tip(user)
    assert tip is not None
    assert tip.content == "Return the parcel"
    assert tip.detail == {
        "project": "Errands",
        "priority": 4,
        "is_recurring": True,
        "due_date": (today - timedelta(days=3)).isoformat(),
        "days_overdue": 3,
        # A newcomer's first task, said as a person would (first_tip.py).
        "phrasing": "Start with “Return the parcel” — it's 3 days overdue.",
    }
    assert isinstance(date.fromisoformat(tip.detail["due_date"]), date)


async def test_the_persons_completion_habits_reach_the_logged_features() -> None:
    """Completed tasks in the person's app shape habit_project / habit_time / habit_late."""
    p = await make_person(tasks=False)
    now = datetime.now(UTC)
    today = now.date()
    await DemoTask.insert(
        DemoTask(user=p.user_id, project="Home", content="Fix the tap", priority=1, added_at=now),
        DemoTask(user=p.user_id, project="Work", content="Send the deck", priority=1, added_at=now),
        *[  # twelve Home tasks finished at this very hour over recent days, most of them late
            DemoTask(
                user=p.user_id,
                project="Home",
                content=f"Done {i}",
                due_date=today - timedelta(days=i + 3),
                added_at=now - timedelta(days=i + 5),
                completed_at=now - timedelta(days=i + 1),
            )
            for i in range(12)
        ],
    )
    await forget_items(p.user_id)
    await service.current_tip(await principal(p.user_id))
    row = await (
        ServedTip.select(ServedTip.candidates)
        .where(ServedTip.user == p.user_id)
        .output(load_json=True)
        .first()
    )
    assert row is not None
    logged = logged_rows(row["candidates"])
    assert logged is not None
    refs, keys, rows = logged
    features = {
        ref: dict(zip(keys, values, strict=True)) for ref, values in zip(refs, rows, strict=True)
    }
    home = next(f for ref, f in features.items() if f["habit_project"] > 0)
    work = next(f for ref, f in features.items() if f["habit_project"] < 0)
    assert home["habit_time"] > 0, "Home gets done at this time of day"
    assert work["habit_time"] == 0, "nothing is known of when Work gets done"
    # The person finishes late work, but nothing open is overdue: the reference share is the
    # 5% floor, so the lift is strongly positive (and the same for every candidate).
    assert home["habit_late"] == work["habit_late"] > 1.0
