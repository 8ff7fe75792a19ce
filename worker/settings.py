"""arq WorkerSettings: gathers the domains' jobs and the cron schedule."""

from __future__ import annotations

from typing import Any, ClassVar

from backend.db import close_pool, open_pool
from backend.integrations.jobs import CRON_JOBS as INTEGRATION_CRON_JOBS
from backend.integrations.jobs import JOBS as INTEGRATION_JOBS
from backend.llm.jobs import CRON_JOBS as LLM_CRON_JOBS
from backend.llm.jobs import JOBS as LLM_JOBS
from backend.privacy.jobs import CRON_JOBS as PRIVACY_CRON_JOBS
from backend.privacy.jobs import JOBS as PRIVACY_JOBS
from backend.profile.jobs import CRON_JOBS as PROFILE_CRON_JOBS
from backend.profile.jobs import JOBS as PROFILE_JOBS
from backend.queue import arq_redis_settings, queue_name
from backend.recommender.jobs import CRON_JOBS as RECOMMENDER_CRON_JOBS
from backend.recommender.jobs import JOBS as RECOMMENDER_JOBS
from backend.redis import close_redis
from backend.settings import get_settings
from backend.simulation.jobs import CRON_JOBS as SIMULATION_CRON_JOBS
from backend.simulation.jobs import JOBS as SIMULATION_JOBS


async def on_startup(ctx: dict[str, Any]) -> None:
    """Open the database pool shared by this worker's jobs."""
    await open_pool()


async def on_shutdown(ctx: dict[str, Any]) -> None:
    """Close what on_startup opened."""
    await close_pool()
    await close_redis()


class WorkerSettings:
    """`arq worker.settings.WorkerSettings` (or `oo worker`)."""

    functions: ClassVar[list[Any]] = [
        *INTEGRATION_JOBS,
        *PRIVACY_JOBS,
        *RECOMMENDER_JOBS,
        *PROFILE_JOBS,
        *LLM_JOBS,
        *SIMULATION_JOBS,
    ]
    cron_jobs: ClassVar[list[Any]] = [
        *INTEGRATION_CRON_JOBS,
        *PRIVACY_CRON_JOBS,
        *RECOMMENDER_CRON_JOBS,
        *PROFILE_CRON_JOBS,
        *LLM_CRON_JOBS,
        *SIMULATION_CRON_JOBS,
    ]
    on_startup = on_startup
    on_shutdown = on_shutdown
    max_tries = 5
    # Agent jobs batch their reads across concurrent jobs: concurrency is what makes them fast.
    max_jobs = get_settings().worker_max_jobs
    keep_result = 3600
    redis_settings = arq_redis_settings()
    queue_name = queue_name()
