"""One pick at a time per person: the serve lock (so two tabs loading at once serve one tip).

A pick's Redis work is two round trips (ADR 0041): one script takes the lock and reads what the
pick will GET next (the person's habits, calendar context, cached task lists) into the
request's round (backend/request_round.py), and one script releases the lock and, while the
lock is still this pick's, caches the tip it served — so the next `tip` is a cache hit.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from backend import request_round
from backend.redis import get_redis, key

_local_serve_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

TIMEOUT_MS = 10_000
"""The lock expires on its own after this (a replica that died holding it)."""
WAIT_S = 10.0
"""How long a pick waits for another's lock before it picks anyway (as before: redis-py's
Lock with blocking_timeout=10)."""
RETRY_S = 0.1

_ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  if #KEYS > 1 then return {1, redis.call('MGET', unpack(KEYS, 2))} end
  return {1, {}}
end
return {0, {}}
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  if ARGV[2] ~= '' then redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3]) end
  return 1
end
return 0
"""

_scripts: dict[int, tuple[Redis, AsyncScript, AsyncScript]] = {}


def _script_pair(client: Redis) -> tuple[AsyncScript, AsyncScript]:
    found = _scripts.get(id(client))
    if found is None or found[0] is not client:
        found = (client, client.register_script(_ACQUIRE), client.register_script(_RELEASE))
        _scripts[id(client)] = found
    return found[1], found[2]


@dataclass
class Held:
    """The lock while it is held: what to cache as the person's current tip on release."""

    cache_key: str = ""
    cache_value: str | bytes = ""
    cache_ttl_s: int = 0

    def cache_on_release(self, cache_key: str, value: str | bytes, ttl_s: int) -> None:
        """Cache this (the tip just served) with the release, while the lock is still ours."""
        request_round.forget(cache_key)  # a value read ahead of it is stale now
        self.cache_key, self.cache_value, self.cache_ttl_s = cache_key, value, ttl_s


async def _acquire(client: Redis, lock_key: str, token: str, ahead: Sequence[str]) -> bool:
    acquire, _ = _script_pair(client)
    deadline = time.monotonic() + WAIT_S
    while True:
        got, values = await acquire(keys=[lock_key, *ahead], args=[token, TIMEOUT_MS])
        if got:
            round_ = request_round.current()
            if round_ is not None:
                round_.reads.update(zip(ahead, values, strict=True))
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(RETRY_S)


@contextlib.asynccontextmanager
async def serve_lock(user_id: str, ahead: Sequence[str] = ()) -> AsyncIterator[Held]:
    """The person's serve lock: in Redis (across replicas); while Redis is away, this
    process's own (tips keep being served from the database; two replicas could then each
    serve one, which the outage makes acceptable).

    `ahead`: keys the pick will read, fetched with the lock into the request's round (a round
    is opened for the lock's lifetime when the caller has none, e.g. a subscription)."""
    opened = None
    if ahead and request_round.current() is None:
        opened = request_round.begin([])
    try:
        async with _held(user_id, ahead) as held:
            yield held
    finally:
        for name in ahead:  # what the pick did not read goes stale from here
            request_round.forget(name)
        if opened is not None:
            request_round.end(opened)


@contextlib.asynccontextmanager
async def _held(user_id: str, ahead: Sequence[str]) -> AsyncIterator[Held]:
    client = get_redis()
    lock_key = key("serve-lock", user_id)
    token = uuid.uuid4().hex
    held = Held()
    try:
        acquired = await _acquire(client, lock_key, token, ahead)
    except RedisError:
        local = _local_serve_locks.get(user_id)
        if local is None:
            local = _local_serve_locks[user_id] = asyncio.Lock()
        async with local:
            yield held
        return
    try:
        yield held
    finally:
        if acquired:
            _, release = _script_pair(client)
            with contextlib.suppress(RedisError):
                await release(
                    keys=[lock_key, held.cache_key or lock_key],
                    args=[token, held.cache_value, held.cache_ttl_s],
                )
