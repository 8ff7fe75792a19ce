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
import functools
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from limits import RateLimitItem
from limits import parse as parse_rate
from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from backend.redis import get_redis
from backend.settings import get_settings


@functools.lru_cache(maxsize=256)
def parse(rate: str) -> RateLimitItem:
    """A rate from settings (`30/minute`), parsed once per process and rate, not per request."""
    return parse_rate(rate)


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
# spent only when nothing refuses, so a refused request spends nothing. Returns {i, seconds
# until its window rolls over} when pair i refuses; else {0, reads...} (see Reads below).
# ARGV: the number of pairs, the caller read's mode ('' | 'json' | 'plain'), the number of
# per-user key heads, the heads, then four values per pair. KEYS: the pairs' keys, then the
# caller key when there is one.
_SPEND = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local n, mode, h = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local a = 3 + h
local current, previous = {}, {}
for i = 1, n do
  local base = a + 4 * (i - 1)
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
  local base = a + 4 * (i - 1)
  if ARGV[base + 4] == '0' then
    redis.call('INCRBY', current[i], tonumber(ARGV[base + 3]))
    redis.call('EXPIRE', current[i], 2 * tonumber(ARGV[base + 2]))
  end
end
if mode == '' then
  return {0}
end
local raw = redis.call('GET', KEYS[n + 1])
local user = false
if raw and mode == 'plain' then
  user = raw
elseif raw then
  local ok, decoded = pcall(cjson.decode, raw)
  if ok and type(decoded) == 'table' and type(decoded['user_id']) == 'string' then
    user = decoded['user_id']
  end
end
local out = {0, raw, user}
for j = 1, h do
  out[3 + j] = user and redis.call('GET', ARGV[3 + j] .. user) or false
end
return out
"""


@dataclass(frozen=True)
class Reads:
    """What the limits' round trip also reads, once nothing refuses (ADR 0030).

    `caller_key` names the caller's user: a session (JSON with `user_id`, `json=True`) or a
    plain user id. Each of `user_heads` plus that user id is a key read too (the current tip).
    """

    caller_key: str
    json: bool
    user_heads: tuple[str, ...] = ()


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

    async def spend(
        self, spends: Sequence[Spend], reads: Reads | None = None
    ) -> tuple[Refusal | None, dict[str, str | None]]:
        prefix = get_settings().redis_prefix + "limits:"
        keys: list[str] = []
        heads = reads.user_heads if reads else ()
        mode = "" if reads is None else ("json" if reads.json else "plain")
        args: list[str | int | float] = [len(spends), mode, len(heads), *heads]
        for spend in spends:
            item = parse(spend.rate)
            keys.append(f"{prefix}{spend.rule}:{spend.key}")
            args += [item.amount, item.get_expiry(), spend.cost, int(spend.test_only)]
        if reads is not None:
            keys.append(reads.caller_key)
        try:
            # A timeout scope, not `wait_for`: on Python 3.11 `wait_for` runs its awaitable as
            # a task of its own, a task per request for one round trip.
            async with asyncio.timeout(REDIS_TIMEOUT_S):
                answer = await self._current()(keys, args)
        except Exception:  # any storage failure: fail open (see the module docstring)
            if not self._failing:
                log.warning("rate limits are off: Redis did not answer", exc_info=True)
            self._failing = True
            return None, {}
        if self._failing:
            log.info("rate limits are back on: Redis answers again")
        self._failing = False
        refused = int(answer[0])
        if refused:
            return Refusal(spends[refused - 1].rule, int(answer[1])), {}
        if reads is None:
            return None, {}
        found: dict[str, str | None] = {reads.caller_key: answer[1]}
        user = answer[2]
        if user:
            for head, value in zip(heads, answer[3:], strict=False):
                found[head + str(user)] = value
        return None, found


_limiter = _Limiter()


async def spend(spends: Sequence[Spend]) -> Refusal | None:
    """Check every limit and, when none refuses, spend them all — in one Redis round trip.

    None when allowed, when rate limits are off (OO_RATE_LIMITS) or when Redis does not answer;
    a refusal spends nothing.
    """
    if not get_settings().rate_limits or not spends:
        return None
    refusal, _ = await _limiter.spend(spends)
    return refusal


async def spend_and_read(
    spends: Sequence[Spend], reads: Reads | None
) -> tuple[Refusal | None, dict[str, str | None]]:
    """`spend`, and in the same round trip the reads (when nothing refuses): key → value.

    Nothing is read while rate limits are off or Redis does not answer (the callers then read
    as they would have); a missing key reads as None.
    """
    if not get_settings().rate_limits or not spends:
        return None, {}
    return await _limiter.spend(spends, reads)


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
