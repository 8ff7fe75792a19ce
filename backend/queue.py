"""The arq connection: enqueue jobs from the web app; the same settings feed the worker."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import job_key_prefix, result_key_prefix
from arq.jobs import serialize_job

from backend.settings import get_settings

_pool: ArqRedis | None = None


def arq_redis_settings() -> RedisSettings:
    """arq's view of the Redis this deployment uses (embedded socket or REDIS_URL)."""
    settings = get_settings()
    if not settings.redis_url:
        return RedisSettings(unix_socket_path=str(settings.redis_socket))
    return RedisSettings.from_dsn(settings.redis_url)


def queue_name() -> str:
    """The arq queue, under this deployment's key prefix."""
    return get_settings().redis_prefix + "arq:queue"


async def get_queue() -> ArqRedis:
    """The shared arq pool of this process."""
    global _pool
    if _pool is None:
        _pool = await create_pool(arq_redis_settings(), default_queue_name=queue_name())
    return _pool


async def enqueue(function: str, *args: Any, job_id: str | None = None) -> None:
    """Enqueue a job by name; `job_id` dedupes while queued, running or its result is kept."""
    queue = await get_queue()
    await queue.enqueue_job(function, *args, _job_id=job_id)


async def close_queue() -> None:
    """Close the pool."""
    global _pool
    if _pool is not None:
        await _pool.aclose()
        _pool = None


# Lua: arq's own enqueue check (no job, no kept result under this id), then the same two
# writes arq does — atomically per job, and many jobs per round trip in one pipeline.
_ENQUEUE_ONCE = """
if redis.call('exists', KEYS[1]) == 1 or redis.call('exists', KEYS[2]) == 1 then
  return 0
end
redis.call('psetex', KEYS[1], ARGV[1], ARGV[2])
redis.call('zadd', KEYS[3], ARGV[3], ARGV[4])
return 1
"""


async def enqueue_many(
    function: str,
    jobs: Sequence[tuple[str, tuple[Any, ...]]],
    *,
    expires_s: int = 24 * 3600,
    chunk: int = 1000,
    defer_s: float = 0.0,
) -> int:
    """Enqueue `(job_id, args)` pairs for one function; returns how many were new.

    Same dedupe as `enqueue(job_id=…)` — an id that is queued, running or whose result is
    kept is skipped — but one round trip per `chunk` jobs instead of several per job, so a
    fan-out over every person takes seconds, not minutes. `expires_s`: a job not started by
    then is dropped (a later fan-out enqueues a fresh one). `defer_s`: the jobs run no sooner
    than that (arq's `_defer_by`).
    """
    queue = await get_queue()
    script = queue.register_script(_ENQUEUE_ONCE)
    name = queue_name()
    added = 0
    for start in range(0, len(jobs), chunk):
        now_ms = int(time.time() * 1000)
        run_at_ms = now_ms + int(defer_s * 1000)
        async with queue.pipeline(transaction=False) as pipe:
            for job_id, args in jobs[start : start + chunk]:
                payload = serialize_job(function, args, {}, None, now_ms, serializer=None)
                await script(
                    keys=[job_key_prefix + job_id, result_key_prefix + job_id, name],
                    args=[expires_s * 1000, payload, run_at_ms, job_id],
                    client=pipe,
                )
            added += sum(int(r) for r in await pipe.execute())
    return added
