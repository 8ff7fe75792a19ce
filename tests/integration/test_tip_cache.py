"""The current-tip cache: hit when nothing changed, never outlives a reaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.identity.service import principal_for_user
from backend.recommender import service, tip_cache
from backend.recommender.reward import Action
from backend.recommender.tables import ServedTip
from tests.support.fixtures import make_person


async def _principal(user_id: str) -> service.Principal:
    principal = await principal_for_user(user_id, "session")
    assert principal is not None
    return principal


async def test_stable_tip_is_served_from_the_cache_until_a_reaction() -> None:
    person = await make_person()
    user = await _principal(person.user_id)
    first = await service.current_tip(user)
    assert first is not None
    again = await service.current_tip(user)  # read from the DB once, then cached
    assert again == first
    cached = await tip_cache.get(person.user_id)
    assert cached == first
    # Prove the next read uses the cache: change the row behind its back.
    await ServedTip.update({ServedTip.content: "changed in the database"}).where(
        ServedTip.id == first.id
    )
    assert (await service.current_tip(user)) == first
    await service.react(user, first.id, Action.SNOOZE, 5_000)
    assert await tip_cache.get(person.user_id) is None
    nxt = await service.current_tip(user)
    assert nxt is not None
    assert nxt.id != first.id


async def test_a_stale_cached_tip_is_dropped_when_its_reaction_is_refused() -> None:
    person = await make_person()
    user = await _principal(person.user_id)
    first = await service.current_tip(user)
    assert first is not None
    await service.react(user, first.id, Action.DONE, 30_000)
    # A read racing the reaction in another process re-cached the answered tip.
    await tip_cache.put(person.user_id, first, timedelta(hours=6), datetime.now(UTC))
    assert (await service.current_tip(user)) == first
    with pytest.raises(service.ReactionError) as refused:
        await service.react(user, first.id, Action.DONE, 30_000)
    assert refused.value.code == "ALREADY_REACTED"
    fresh = await service.current_tip(user)
    assert fresh is None or fresh.id != first.id


async def test_cache_ttl_is_capped() -> None:
    person = await make_person()
    user = await _principal(person.user_id)
    tip = await service.current_tip(user)
    assert tip is not None
    await service.current_tip(user)
    from backend.redis import get_redis, key

    ttl = await get_redis().ttl(key("current-tip", person.user_id))
    assert 0 < ttl <= tip_cache.MAX_TTL_S
