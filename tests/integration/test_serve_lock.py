"""The serve lock (ADR 0041): one pick at a time per person, the pick's Redis reads fetched
with the lock, the served tip cached with the release — only while the lock is still ours."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from backend import request_round
from backend.recommender import serve_lock as lock_module
from backend.recommender.serve_lock import serve_lock
from backend.redis import cache_get, get_redis, key


async def test_the_reads_ahead_come_with_the_lock_and_are_handed_out_once() -> None:
    user = str(uuid.uuid4())
    there, absent = key("ahead-test", user, "a"), key("ahead-test", user, "b")
    await get_redis().set(there, "value", ex=60)
    async with serve_lock(user, [there, absent]):
        round_ = request_round.current()
        assert round_ is not None  # opened for the lock's lifetime (no request here)
        assert round_.reads == {there: "value", absent: None}
        await get_redis().set(there, "changed", ex=60)
        assert await cache_get(there) == "value"  # from the lock's round trip
        assert await cache_get(there) == "changed"  # a second reader asks Redis
    assert request_round.current() is None


async def test_a_second_pick_waits_for_the_first() -> None:
    user = str(uuid.uuid4())
    order: list[str] = []
    first_in = asyncio.Event()

    async def first() -> None:
        async with serve_lock(user):
            first_in.set()
            await asyncio.sleep(0.3)
            order.append("first out")

    async def second() -> None:
        await first_in.wait()
        async with serve_lock(user):
            order.append("second in")

    await asyncio.wait_for(asyncio.gather(first(), second()), timeout=20)
    assert order == ["first out", "second in"]


async def test_the_tip_is_cached_on_release_only_while_the_lock_is_ours() -> None:
    user = str(uuid.uuid4())
    tip_key = key("current-tip", user)
    async with serve_lock(user) as held:
        held.cache_on_release(tip_key, "tip-1", 30)
    assert await get_redis().get(tip_key) == "tip-1"
    assert 0 < await get_redis().ttl(tip_key) <= 30
    assert await get_redis().get(key("serve-lock", user)) is None  # released

    await get_redis().delete(tip_key)
    async with serve_lock(user) as held:
        # The lock expired and another pick took it: this one must not cache its tip.
        await get_redis().set(key("serve-lock", user), "another pick", px=5000)
        held.cache_on_release(tip_key, "tip-2", 30)
    assert await get_redis().get(tip_key) is None
    assert await get_redis().get(key("serve-lock", user)) == "another pick"  # not released


async def test_a_lock_held_too_long_is_waited_for_then_picked_without(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = str(uuid.uuid4())
    monkeypatch.setattr(lock_module, "WAIT_S", 0.3)
    await get_redis().set(key("serve-lock", user), "stuck", px=5000)
    started = time.monotonic()
    async with serve_lock(user):
        waited = time.monotonic() - started
    assert waited >= 0.3
    assert await get_redis().get(key("serve-lock", user)) == "stuck"
