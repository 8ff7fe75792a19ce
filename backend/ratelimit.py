"""Rate limits kept in Redis; fail open (ADR 0018, ADR 0030).

Each rule is a rate from settings (`30/minute`, parsed by the `limits` library) counted per key
(a client address, an account, a credential's hash) with a sliding-window counter: two integers
per key and window, so a burst at a window's edge cannot double the rate as a fixed window
would. Every limit a request spends is checked and spent by one Lua script in one round trip
(the `limits` strategies take one round trip per key and have no batch form). The counters
live under the deployment's Redis prefix and share the process's Redis connection pool.

When Redis does not answer, the request is let through and the failure is logged once until
Redis answers again: a limiter that turned a Redis outage into refused sign-ins and GraphQL
calls would do more harm than the abuse it stops.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from limits import parse
from redis.asyncio import Redis
from redis.commands.core import AsyncScript

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


@dataclass(frozen=True)
class Spend:
    """One limit a request spends (or, with `test_only`, only checks) on one key."""

    rule: str
    rate: str
    key: str
    cost: int = 1
    test_only: bool = False


# Sliding-window counters for many (rule, key) pairs in one round trip. Per pair: the count of
# the current and the previous fixed window; the previous one is weighted by how much of it
# the sliding window still covers (the estimate `limits` uses). Everything is checked first and
# spent only when nothing refuses, so a refused request spends nothing. Returns {0} when
# allowed, else {1-based index of the refusing pair, seconds until its window rolls over}.
_SPEND = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local n = #KEYS
local current, previous = {}, {}
for i = 1, n do
  local base = 4 * (i - 1)
  local limit, window, cost = tonumber(ARGV[base + 1]), tonumber(ARGV[base + 2]),
                              tonumber(ARGV[base + 3])
  local slot = math.floor(now / window)
  current[i] = KEYS[i] .. ':' .. slot
  previous[i] = KEYS[i] .. ':' .. (slot - 1)
  local elapsed = now - slot * window
  local count = tonumber(redis.call('GET', current[i]) or '0')
  local before = tonumber(redis.call('GET', previous[i]) or '0')
  local weighted = before * (window - elapsed) / window + count
  if weighted + cost > limit then
    return {i, math.max(1, math.ceil(window - elapsed))}
  end
end
for i = 1, n do
  local base = 4 * (i - 1)
  if ARGV[base + 4] == '0' then
    redis.call('INCRBY', current[i], tonumber(ARGV[base + 3]))
    redis.call('EXPIRE', current[i], 2 * tonumber(ARGV[base + 2]))
  end
end
return {0}
"""


class _Limiter:
    """Spends limits in Redis, one script call per request; fails open when Redis is away."""

    def __init__(self) -> None:
        self._client: Redis | None = None
        self._script: AsyncScript | None = None
        self._failing = False

    def _current(self) -> AsyncScript:
        client = get_redis()
        if self._script is None or client is not self._client:
            self._client, self._script = client, client.register_script(_SPEND)
        return self._script

    async def spend(self, spends: Sequence[Spend]) -> Refusal | None:
        prefix = get_settings().redis_prefix + "limits:"
        keys, args = [], []
        for spend in spends:
            item = parse(spend.rate)
            keys.append(f"{prefix}{spend.rule}:{spend.key}")
            args += [item.amount, item.get_expiry(), spend.cost, int(spend.test_only)]
        try:
            answer = await asyncio.wait_for(self._current()(keys, args), REDIS_TIMEOUT_S)
        except Exception:  # any storage failure: fail open (see the module docstring)
            if not self._failing:
                log.warning("rate limits are off: Redis did not answer", exc_info=True)
            self._failing = True
            return None
        if self._failing:
            log.info("rate limits are back on: Redis answers again")
        self._failing = False
        refused = int(answer[0])
        return Refusal(spends[refused - 1].rule, int(answer[1])) if refused else None


_limiter = _Limiter()


async def spend(spends: Sequence[Spend]) -> Refusal | None:
    """Check every limit and, when none refuses, spend them all — in one Redis round trip.

    None when allowed, when rate limits are off (OO_RATE_LIMITS) or when Redis does not answer;
    a refusal spends nothing.
    """
    if not get_settings().rate_limits or not spends:
        return None
    return await _limiter.spend(spends)


async def hit(rule: str, rate: str, *keys: str, cost: int = 1) -> Refusal | None:
    """Spend `cost` of `rate` for each key under `rule`; a key over it refuses."""
    return await spend([Spend(rule, rate, key, cost) for key in keys])


async def exhausted(rule: str, rate: str, key: str) -> Refusal | None:
    """A refusal when `key` has already spent `rate` under `rule` (spends nothing)."""
    return await spend([Spend(rule, rate, key, test_only=True)])


async def count_auth_failure(address: str) -> None:
    """A refused personal token from `address`: past OO_RATE_AUTH_FAILURES, bearer calls from
    there are refused until the window passes (backend/rate_limit_middleware.py)."""
    await hit("auth-failures", get_settings().rate_auth_failures, f"ip:{address}")
