"""Profile owns its history: the recommender's events keep profile's `tip_history` current, the
agents read it, and replayed events change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.events.bus import publish
from backend.events.contracts import TipFeedback, TipServed
from backend.events.handlers import dispatch, subscribe, unsubscribe
from backend.identity.service import principal_for_user
from backend.profile.history import histories
from backend.profile.tables import TipHistory
from backend.profile.tip_history import reactions_since, served_counts_since, users_served_since
from backend.recommender import service
from backend.recommender.reward import Action
from tests.support.fixtures import make_person


async def test_serving_and_reacting_reach_the_profiles_history() -> None:
    person = await make_person()
    user = await principal_for_user(person.user_id, "token")
    assert user is not None
    before = datetime.now(UTC) - timedelta(seconds=1)
    tip = await service.current_tip(user)
    assert tip is not None

    (row,) = await TipHistory.select().where(TipHistory.user == user.user_id)
    assert str(row["tip_id"]) == tip.id
    assert row["item_ref"] == tip.item_ref
    assert row["content"] == tip.content, "agents cluster what was done by its words"
    assert row["action"] is None
    assert await served_counts_since([user.user_id], before) == {user.user_id: 1}
    assert user.user_id in await users_served_since(before)

    await service.react(user, tip.id, Action.DISMISS, 4000)
    (reaction,) = await reactions_since([user.user_id], before)
    assert (reaction.item_ref, reaction.action) == (tip.item_ref, "dismiss")
    history = (await histories([user.user_id]))[user.user_id]
    assert [(e.kind, e.item_ref) for e in history.events if e.source == "feedback"] == [
        ("dismiss", tip.item_ref)
    ]


async def test_replayed_events_change_nothing() -> None:
    person = await make_person(tasks=False)
    served = TipServed(
        tip_id="5b0f3c1e-8a51-4a8e-9d0e-2d1c3b4a5f60",
        item_ref="demo:replay",
        source="demo",
        kind="task",
        policy_id="random",
        policy_version="1",
        propensity=0.5,
        candidate_count=2,
        latency_ms=1.0,
        served_at=datetime.now(UTC).isoformat(),
        content="Water the plants",
        project="Home",
        due_date="2026-12-07",
    )
    feedback = TipFeedback(
        tip_id=served.tip_id,
        item_ref=served.item_ref,
        action="done",
        dwell_ms=3000,
        dwell_source="client",
        reward=1.0,
        reward_source="reaction",
        reacted_at=datetime.now(UTC).isoformat(),
    )
    for _ in range(2):
        await dispatch([(person.user_id, served), (person.user_id, feedback)])
    await dispatch([(person.user_id, served)])  # a late replay of the serve keeps the reaction
    rows = await TipHistory.select().where(TipHistory.user == person.user_id)
    assert len(rows) == 1
    assert rows[0]["action"] == "done"
    assert str(rows[0]["due_date"]) == "2026-12-07"


async def test_a_failing_consumer_never_fails_the_publisher(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from backend.events.contracts import ProfileChanged

    calls: list[str] = []

    async def broken(user_id: str, event: ProfileChanged) -> None:
        calls.append(user_id)
        raise RuntimeError("consumer bug")

    subscribe(ProfileChanged, broken)
    person = await make_person(tasks=False)
    try:
        event_id = await publish(person.user_id, ProfileChanged(what="context"))
    finally:
        unsubscribe(ProfileChanged, broken)
    assert event_id, "the event still reached the stream"
    assert calls == [person.user_id]
    assert "consumer bug" in caplog.text
