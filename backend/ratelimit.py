"""Rate limits kept in Redis through the `limits` library; fail open (ADR 0018).

Each rule is a rate from settings (`30/minute`) counted per key (a client address, an account,
a credential's hash) with a sliding-window counter: two integers per key and window, so a burst
at a window's edge cannot double the rate as a fixed window would. The counters live under the
deployment's Redis prefix and share the process's Redis connection pool.

When Redis does not answer, the request is let through and the failure is logged once until
Redis answers again: a limiter that turned a Redis outage into refused sign-ins and GraphQL
calls would do more harm than the abuse it stops.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from redis.asyncio import Redis

from backend.redis import get_redis
from backend.settings import get_settings

log = logging.getLogger("oo.ratelimit")
REDIS_TIMEOUT_S = 0.5
"""A limiter waits no longer than this for Redis before letting the request through."""


@dataclass(frozen=True)
class Refusal:
    """Over the limit: try again in `retry_after_s` seconds."""

    rule: str
    retry_after_s: int


def fingerprint(secret: str) -> str:
    """A stable, non-reversible key for a credential (never store the credential itself)."""
    return hashlib.sha256(secret.encode()).hexdigest()[:32]


class _Limiter:
    """The `limits` limiter over the process's Redis client; rebuilt when that client changes."""

    def __init__(self) -> None:
        self._client: Redis | None = None
        self._limiter: SlidingWindowCounterRateLimiter | None = None
        self._failing = False

    def _current(self) -> SlidingWindowCounterRateLimiter:
        client = get_redis()
        if self._limiter is None or client is not self._client:
            storage = RedisStorage(
                # The URI only picks the storage class: the client comes from our pool.
                "async+redis://",
                implementation="redispy",
                key_prefix=get_settings().redis_prefix + "limits",
                connection_pool=client.connection_pool,  # type: ignore[arg-type]
            )
            self._client, self._limiter = client, SlidingWindowCounterRateLimiter(storage)
        return self._limiter

    async def hit(self, rule: str, rate: str, keys: tuple[str, ...], cost: int) -> Refusal | None:
        item = parse(rate)
        limiter = self._current()
        try:
            for key in keys:
                allowed = await asyncio.wait_for(
                    limiter.hit(item, rule, key, cost=cost), REDIS_TIMEOUT_S
                )
                if not allowed:
                    return Refusal(rule, await self._retry_after(limiter, item, rule, key))
        except Exception:  # any storage failure: fail open (see the module docstring)
            if not self._failing:
                log.warning("rate limits are off: Redis did not answer", exc_info=True)
            self._failing = True
            return None
        if self._failing:
            log.info("rate limits are back on: Redis answers again")
        self._failing = False
        return None

    async def exhausted(self, rule: str, rate: str, key: str) -> Refusal | None:
        """Refusal when `key` has no hit left under `rule` (without spending one)."""
        item = parse(rate)
        limiter = self._current()
        try:
            if await asyncio.wait_for(limiter.test(item, rule, key), REDIS_TIMEOUT_S):
                return None
            return Refusal(rule, await self._retry_after(limiter, item, rule, key))
        except Exception:
            if not self._failing:
                log.warning("rate limits are off: Redis did not answer", exc_info=True)
            self._failing = True
            return None

    @staticmethod
    async def _retry_after(
        limiter: SlidingWindowCounterRateLimiter, item: RateLimitItem, rule: str, key: str
    ) -> int:
        stats = await asyncio.wait_for(limiter.get_window_stats(item, rule, key), REDIS_TIMEOUT_S)
        return max(1, math.ceil(stats.reset_time - time.time()))


_limiter = _Limiter()


async def hit(rule: str, rate: str, *keys: str, cost: int = 1) -> Refusal | None:
    """Spend `cost` of `rate` for each key under `rule`; the first key over it refuses.

    None when allowed, when rate limits are off (OO_RATE_LIMITS) or when Redis does not answer.
    """
    if not get_settings().rate_limits or not keys:
        return None
    return await _limiter.hit(rule, rate, keys, cost)


async def exhausted(rule: str, rate: str, key: str) -> Refusal | None:
    """A refusal when `key` has already spent `rate` under `rule` (spends nothing)."""
    if not get_settings().rate_limits:
        return None
    return await _limiter.exhausted(rule, rate, key)


async def count_auth_failure(address: str) -> None:
    """A refused personal token from `address`: past OO_RATE_AUTH_FAILURES, bearer calls from
    there are refused until the window passes (backend/rate_limit_middleware.py)."""
    await hit("auth-failures", get_settings().rate_auth_failures, f"ip:{address}")
