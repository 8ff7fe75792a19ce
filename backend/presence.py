"""Presence: who has oO open right now (a live `myTip` subscription, i.e. a tip page).

A page that stays open refreshes its mark every REFRESH_S; the mark lives TTL_S, so a closed
page (or a lost connection) stops counting within two minutes. The push decider never
interrupts someone who is looking at their tip already. While Redis is away nobody counts as
present (a push then waits for the other rules anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from redis.exceptions import RedisError

from backend.redis import get_redis, key

REFRESH_S = 60.0
TTL_S = 120


def _key(user_id: str) -> str:
    return key("presence", user_id)


async def seen(user_id: str) -> None:
    """Mark the person present now."""
    with contextlib.suppress(RedisError):
        await get_redis().set(_key(user_id), str(time.time()), ex=TTL_S)


async def last_seen(user_id: str) -> float | None:
    """When the person was last marked present (epoch seconds), within TTL_S."""
    try:
        raw = await get_redis().get(_key(user_id))
    except RedisError:
        return None
    return float(raw) if raw else None


async def keep_present(user_id: str) -> None:
    """Mark the person present every REFRESH_S until cancelled (the subscription ends)."""
    while True:
        await seen(user_id)
        await asyncio.sleep(REFRESH_S)
