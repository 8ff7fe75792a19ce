"""The live multiplexer: one stream reader per process however many subscribers, each
subscriber filtered and bounded, resume without gaps or duplicates, slow ones cut off."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from backend.events import live
from backend.events.bus import Event, publish
from backend.events.contracts import TasksSynced
from backend.redis import get_redis

SUBJECT = "signals.task.synced"
WAIT_S = 30.0
"""How long a subscriber may take to register: far longer than needed, for a loaded machine."""


async def _take(stream: AsyncIterator[Event], n: int, timeout: float = 10.0) -> list[Event]:
    async def take() -> list[Event]:
        return [await anext(stream) for _ in range(n)]

    return await asyncio.wait_for(take(), timeout)


async def _started(stream: AsyncIterator[Event]) -> asyncio.Task[Event]:
    """Begin waiting on a subscription (it registers on its first step)."""
    task = asyncio.create_task(anext(stream))  # type: ignore[arg-type]
    deadline = time.monotonic() + WAIT_S
    while not live.multiplexer().subscribers and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    return task


def _synced(n: int) -> TasksSynced:
    return TasksSynced(source=f"live-test-{n}", items=n, duration_ms=1.0)


def _in_use_connections() -> int:
    # redis-py's pool bookkeeping: the connections this process holds right now.
    return len(get_redis().connection_pool._in_use_connections)  # type: ignore[attr-defined]


async def test_many_subscribers_share_one_reader_and_see_only_their_own() -> None:
    people = [str(uuid.uuid4()) for _ in range(40)]
    streams = [live.subscribe([SUBJECT], person) for person in people]
    firsts = [asyncio.create_task(anext(s)) for s in streams]  # type: ignore[arg-type]
    deadline = time.monotonic() + WAIT_S
    while live.multiplexer().subscribers < len(people) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert live.multiplexer().subscribers == len(people)
    assert _in_use_connections() <= 2, "one blocking reader, not one per subscriber"

    for n, person in enumerate(people):
        await publish(person, _synced(n))
    got = await asyncio.wait_for(asyncio.gather(*firsts), 10)
    assert [e.user_id for e in got] == people, "each saw its own event, nobody else's"
    for n, event in enumerate(got):
        assert event.payload["items"] == n
    for stream in streams:
        await stream.aclose()  # type: ignore[attr-defined]
    assert live.multiplexer().subscribers == 0


async def test_resume_after_an_id_has_no_gap_and_no_duplicate() -> None:
    person = str(uuid.uuid4())
    ids = [await publish(person, _synced(n)) for n in range(5)]
    stream = live.subscribe([SUBJECT], person, after=ids[1])
    first = await _started(stream)
    later = await publish(person, _synced(5))
    rest = await _take(stream, 3)
    replayed = [(await first).id, *[e.id for e in rest]]
    assert replayed == [*ids[2:], later]
    await stream.aclose()  # type: ignore[attr-defined]


async def test_a_slow_subscriber_is_cut_off_without_slowing_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A buffer of 5 and one event per read: the fast subscriber drains as the reader offers.
    monkeypatch.setattr(live, "SUBSCRIBER_BUFFER", 5)
    monkeypatch.setattr(live, "READ_COUNT", 1)
    person = str(uuid.uuid4())
    slow = live.subscribe([SUBJECT], person)
    fast = live.subscribe([SUBJECT], person)
    slow_first = await _started(slow)
    total = 12
    fast_all = asyncio.create_task(_take(fast, total, timeout=20))
    deadline = time.monotonic() + WAIT_S
    while live.multiplexer().subscribers < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    published = [await publish(person, _synced(n)) for n in range(total)]

    assert [e.id for e in await fast_all] == published, "the fast one got every event"
    assert (await asyncio.wait_for(slow_first, 10)).id == published[0]
    with pytest.raises(live.SubscriberTooSlow) as cut:
        await _take(slow, total)
    assert cut.value.last_id == published[0], "it says where to resume from"
    await fast.aclose()  # type: ignore[attr-defined]
