"""arq WorkerSettings: gathers the domains' jobs and the cron schedule."""

from __future__ import annotations

from typing import Any, ClassVar

from backend.db import close_pool, open_pool
from backend.integrations.jobs import JOBS as INTEGRATION_JOBS
from backend.queue import arq_redis_settings, queue_name
from backend.redis import close_redis


async def on_startup(ctx: dict[str, Any]) -> None:
    """Open the database pool shared by this worker's jobs."""
    await open_pool()


async def on_shutdown(ctx: dict[str, Any]) -> None:
    """Close what on_startup opened."""
    await close_pool()
    await close_redis()


class WorkerSettings:
    """`arq worker.settings.WorkerSettings` (or `oo worker`)."""

    functions: ClassVar[list[Any]] = [*INTEGRATION_JOBS]
    cron_jobs: ClassVar[list[Any]] = []
    on_startup = on_startup
    on_shutdown = on_shutdown
    max_tries = 5
    keep_result = 3600
    redis_settings = arq_redis_settings()
    queue_name = queue_name()
