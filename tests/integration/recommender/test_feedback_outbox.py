"""A reaction is acknowledged by what is stored: its event and its "done" close leave through
the outbox written in the same transaction; a retry with the same request id gets the stored
answer; whatever could not be sent at once is sent by the drain, once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from backend.events.bus import recent
from backend.recommender import outbox, service
from backend.recommender.reward import Action
from backend.recommender.tables import Feedback, Outbox
from tests.integration.test_recommender_service import person_with_tasks


async def test_a_retry_with_the_same_request_id_gets_the_stored_answer() -> None:
    person = await person_with_tasks("Water the plants")
    tip = await service.current_tip(person)
    assert tip is not None
    request = uuid.uuid4().hex
    first = await service.react(person, tip.id, Action.DONE, 12_000, request)
    again = await service.react(person, tip.id, Action.DONE, 12_000, request)
    assert (again.tip.id, again.action, again.reward, again.dwell_ms) == (
        first.tip.id,
        first.action,
        first.reward,
        first.dwell_ms,
    )
    assert await Feedback.count().where(Feedback.tip == tip.id) == 1
    # The event and the close were sent at once (so nothing is left); the retry added nothing.
    assert await Outbox.count().where(Outbox.user == person.user_id) == 0
    events = await recent(50, ["signals.tip.feedback"], person.user_id)
    assert [e.payload["tip_id"] for e in events] == [tip.id]
    for other in (uuid.uuid4().hex, None):
        with pytest.raises(service.ReactionError) as refused:
            await service.react(person, tip.id, Action.DISMISS, 1000, other)
        assert refused.value.code == "ALREADY_REACTED"


async def test_what_could_not_be_sent_is_sent_by_the_drain_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    person = await person_with_tasks("Call the bank")
    tip = await service.current_tip(person)
    assert tip is not None

    async def bus_away(*_args: object, **_kwargs: object) -> str:
        raise ConnectionError("Redis is away")

    monkeypatch.setattr(outbox, "publish", bus_away)
    monkeypatch.setattr(outbox, "enqueue", bus_away)
    reaction = await service.react(person, tip.id, Action.DONE, 60_000, None)
    # Stored and acknowledged although nothing could be sent.
    stored = await Feedback.select(Feedback.reward).where(Feedback.tip == tip.id).first()
    assert stored is not None
    assert stored["reward"] == reaction.reward
    assert await outbox.pending(person.user_id) == 2

    monkeypatch.undo()  # the bus is back
    await _age(person.user_id)
    drained = await outbox.drain()
    assert drained["sent"] >= 2
    assert await outbox.pending(person.user_id) == 0
    events = await recent(50, ["signals.tip.feedback"], person.user_id)
    assert [e.payload["tip_id"] for e in events] == [tip.id]
    await outbox.drain()  # nothing twice
    assert len(await recent(50, ["signals.tip.feedback"], person.user_id)) == 1


async def _age(user_id: str) -> None:
    """Make the rows look older than DRAIN_AFTER_S (the drain leaves fresh ones to requests)."""
    await Outbox.update({Outbox.created_at: datetime.now(UTC) - timedelta(minutes=1)}).where(
        Outbox.user == user_id
    )
