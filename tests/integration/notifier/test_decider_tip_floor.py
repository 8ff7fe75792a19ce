"""The tip floor in the decider: a tip is judged against the scores of the person's own recent
tips (logged with every decision), a weak one is held as `weak_tip` with propensity 1 and its
rank in the log, off-policy evaluation keeps that hold, and old decisions do not count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from backend.notifier import decider, push_ope
from backend.notifier.tables import PushDecision, PushLearnerState
from backend.recommender import push_floor, push_policy
from tests.support.push_people import subscribed_person_outside_quiet_hours
from tests.support.push_standin import PushStandIn
from tests.support.queued_jobs import enqueued


async def _eager_person(push_service: PushStandIn) -> tuple[str, float]:
    """A subscribed person outside quiet hours whose learner would push anything (so the floor
    is what is tested), and the score of their current tip."""

    user_id, _ = await subscribed_person_outside_quiet_hours(push_service)
    sure = push_policy.PushState(
        mean=[4.0] + [0.0] * (len(push_policy.FEATURES) - 1),
        precision=[1e4] * len(push_policy.FEATURES),
        threshold=0.2,
    )
    await PushLearnerState(user=user_id, state=sure.as_json()).save()
    tip = await decider._current_tip(user_id)
    assert tip is not None
    score = decider._score(tip)
    assert score is not None  # the recommender's pick carries its own score
    return user_id, score


async def _seen_before(user_id: str, scores: list[float], age: timedelta) -> None:
    """Earlier decisions (holds) that saw other tips with these scores."""
    for i, score in enumerate(scores):
        await PushDecision(
            user=user_id,
            decided_at=datetime.now(UTC) - age - timedelta(minutes=15 * i),
            trigger="periodic",
            tip_id=f"earlier-{i}",
            tip_kind="task",
            tip_score=score,
            reason="below_threshold",
        ).save()


async def _context(decision_id: str) -> dict[str, Any]:
    row = (
        await PushDecision.select(PushDecision.context, PushDecision.tip_score)
        .where(PushDecision.id == decision_id)
        .output(load_json=True)
        .first()
    )
    assert row is not None
    return {**row["context"], "tip_score": row["tip_score"]}


async def test_a_tip_below_the_persons_own_recent_tips_waits_and_the_log_says_why(
    push_service: PushStandIn,
) -> None:
    user_id, score = await _eager_person(push_service)
    since = datetime.now(UTC) - timedelta(seconds=1)
    await _seen_before(user_id, [score + 0.1 * (i + 1) for i in range(6)], timedelta(hours=1))

    held = await decider.decide(user_id, "manual")
    assert held is not None
    assert (held.push, held.reason, held.propensity) == (False, push_floor.WEAK_TIP, 1.0)
    assert held.tip_id
    logged = await _context(held.id)
    assert logged["tip_score"] == score
    assert logged["score_rank"] < push_floor.QUANTILE
    assert logged["recent_tips"] == 7  # six earlier tips and this one
    assert await enqueued(f"push:{held.id}:") == {}, "a hold queues no delivery"
    # The learned policy held there for sure: off-policy evaluation keeps the hold.
    replayed = [d for d in await push_ope.logged(since) if not d.pushed]
    assert any(d.propensity == 1.0 for d in replayed)


async def test_the_same_tip_is_pushed_when_it_is_among_the_persons_best(
    push_service: PushStandIn,
) -> None:
    user_id, score = await _eager_person(push_service)
    await _seen_before(user_id, [score - 0.1 * (i + 1) for i in range(6)], timedelta(hours=1))

    pushed = await decider.decide(user_id, "manual")
    assert pushed is not None
    assert (pushed.push, pushed.reason) == (True, "value")
    logged = await _context(pushed.id)
    assert logged["score_rank"] >= push_floor.QUANTILE
    assert logged["tip_score"] == score


async def test_tips_seen_before_the_window_do_not_count(push_service: PushStandIn) -> None:
    user_id, score = await _eager_person(push_service)
    old = timedelta(days=push_floor.WINDOW_DAYS, hours=1)
    await _seen_before(user_id, [score + 0.1 * (i + 1) for i in range(6)], old)

    pushed = await decider.decide(user_id, "manual")
    assert pushed is not None
    assert (pushed.push, pushed.reason) == (True, "value")
    assert (await _context(pushed.id))["score_rank"] is None  # too few recent tips: no floor
