"""The arq connection: enqueue jobs from the web app; the same settings feed the worker."""

from __future__ import annotations

from typing import Any

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings

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
