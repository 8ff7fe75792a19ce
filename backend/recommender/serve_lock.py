"""One pick at a time per person: the serve lock (so two tabs loading at once serve one tip)."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator

from redis.exceptions import RedisError

from backend.redis import get_redis, key

_local_serve_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


@contextlib.asynccontextmanager
async def serve_lock(user_id: str) -> AsyncIterator[None]:
    """The person's serve lock: in Redis (across replicas); while Redis is away, this
    process's own (tips keep being served from the database; two replicas could then each
    serve one, which the outage makes acceptable)."""
    try:
        lock = get_redis().lock(key("serve-lock", user_id), timeout=10, blocking_timeout=10)
        acquired = await lock.acquire()
    except RedisError:
        local = _local_serve_locks.get(user_id)
        if local is None:
            local = _local_serve_locks[user_id] = asyncio.Lock()
        async with local:
            yield
        return
    try:
        yield
    finally:
        if acquired:
            with contextlib.suppress(RedisError):
                await lock.release()
