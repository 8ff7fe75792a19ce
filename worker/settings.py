"""arq WorkerSettings: gathers the domains' jobs and the cron schedule."""

from __future__ import annotations

from typing import Any, ClassVar

import aiohttp
from arq.connections import RedisSettings

from backend import heartbeat
from backend.db import close_pool, open_pool
from backend.domains import DOMAINS, install
from backend.queue import arq_redis_settings, queue_name
from backend.redis import close_redis
from backend.settings import get_settings
from worker.heap import settle_heap

CONNECT_TIMEOUT_S = 10
"""arq's default is 1 s. A worker opens Redis connections as its concurrent jobs need them, and
on a loaded machine a connect that waits behind a second of other jobs' work times out; when
that happens in the first step of a job arq has just marked in progress, the job is left
marked and unrun until the mark expires — the longest job timeout plus 10 s, minutes — and an
agent pass waits for it (seen in bench/agents_throughput.py at load 12–18)."""


def worker_redis_settings() -> RedisSettings:
    """The queue's Redis as the web app reaches it, with a connect timeout for busy workers."""
    settings = arq_redis_settings()
    settings.conn_timeout = CONNECT_TIMEOUT_S
    return settings


async def on_startup(ctx: dict[str, Any]) -> None:
    """Install the domains; open the database pool shared by this worker's jobs."""
    install()
    await open_pool()
    # One HTTP connection pool per worker for jobs that call out (push delivery: a push service
    # keeps the connection, so each push is one request, not a TCP and TLS handshake too).
    ctx["http"] = aiohttp.ClientSession()
    # Last: what startup allocated stays for the process's life; later collections skip it.
    settle_heap()


async def on_shutdown(ctx: dict[str, Any]) -> None:
    """Close what on_startup opened (saying goodbye to the health rollup first)."""
    await heartbeat.forget("worker")
    http = ctx.get("http")
    if http is not None:
        await http.close()
    await close_pool()
    await close_redis()


class WorkerSettings:
    """`arq worker.settings.WorkerSettings` (or `oo worker`)."""

    functions: ClassVar[list[Any]] = [job for d in DOMAINS for job in d.jobs]
    cron_jobs: ClassVar[list[Any]] = [cron for d in DOMAINS for cron in d.cron_jobs]
    on_startup = on_startup
    on_shutdown = on_shutdown
    max_tries = 5
    # Agent jobs batch their reads across concurrent jobs: concurrency is what makes them fast.
    max_jobs = get_settings().worker_max_jobs
    keep_result = 3600
    # SIGTERM: stop picking jobs, give the running ones the grace period, then cancel what is
    # left (arq re-queues a cancelled job, so another worker finishes it) and exit.
    job_completion_wait = get_settings().shutdown_grace_s
    redis_settings = worker_redis_settings()
    queue_name = queue_name()
