"""SIGTERM drains: `oo serve` stops accepting, finishes the requests it has, closes open
subscriptions with 1012 "service restart" (so clients reconnect to another replica) and exits;
`oo worker` stops picking jobs, finishes the running ones and leaves the rest queued.

Requests and jobs are held in flight the honest way: the test locks the table they need in
its own transaction and releases it only after the signal, so "in flight" is a fact checked in
pg_stat_activity, not a guess about timing.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis
from arq import create_pool
from arq.connections import RedisSettings
from arq.jobs import Job, JobStatus
from websockets.exceptions import ConnectionClosed

from tests.conftest import PG_ADMIN_DSN, TEST_DB
from tests.integration.test_events_subscription import socket
from tests.support.deployment import demo_token_and_link, own_database
from tests.support.fixtures import LiveServer, start_server, stop_server

pytestmark = pytest.mark.skipif(TEST_DB != "postgres", reason="fault tests run on PostgreSQL")

GRACE_S = 20
IN_FLIGHT = 8
DEADLINE_S = 60.0
SUBSCRIPTIONS = "{ pushSubscriptions { endpoint } }"


@dataclass
class Drained:
    """A deployment of this test's own: database, queue (Redis key prefix), server, worker."""

    server: LiveServer
    database_url: str
    prefix: str


@pytest.fixture
def deployment(var_dir: Path) -> Iterator[Drained]:
    prefix = f"oo-drain-{secrets.token_hex(4)}:"
    with own_database(PG_ADMIN_DSN) as url:
        env = {
            "DATABASE_URL": url,
            "OO_REDIS_PREFIX": prefix,
            "OO_SHUTDOWN_GRACE": str(GRACE_S),
            # Each held request keeps a connection while it waits on the lock: room for all.
            "OO_DB_POOL_MAX": str(IN_FLIGHT + 4),
        }
        server = start_server(var_dir, extra_env=env)
        try:
            yield Drained(server, url, prefix)
        finally:
            stop_server(server)
            _forget_prefix(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), prefix)


def _forget_prefix(redis_url: str, prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {DEADLINE_S:.0f} s: {what}")
        await asyncio.sleep(0.05)


async def _waiting_on_locks(conn: asyncpg.Connection, database: str) -> int:
    count = await conn.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
        database,
    )
    return int(count)


async def _refuses_connections(url: str) -> bool:
    try:
        async with httpx.AsyncClient(base_url=url, timeout=2) as client:
            await client.get("/healthz")
    except httpx.ConnectError:
        return True
    except httpx.HTTPError:
        return False
    return False


async def _query_on_own_connection(url: str, token: str) -> httpx.Response:
    # One client per request: each is its own connection, accepted before the signal.
    async with httpx.AsyncClient(base_url=url, timeout=DEADLINE_S + GRACE_S) as client:
        return await client.post(
            "/graphql",
            json={"query": SUBSCRIPTIONS},
            headers={"Authorization": f"Bearer {token}"},
        )


async def test_sigterm_finishes_in_flight_requests_and_closes_subscriptions(
    deployment: Drained,
) -> None:
    server = deployment.server
    token, _ = demo_token_and_link(deployment.database_url)
    database = deployment.database_url.rsplit("/", 1)[1]
    locker = await asyncpg.connect(deployment.database_url)
    watcher = await asyncpg.connect(deployment.database_url)
    try:
        async with socket(server, token) as live:
            op = await live.subscribe("subscription { myTip { id } }")
            first = await live.receive()
            assert (first["id"], first["type"]) == (op, "next"), first

            lock = locker.transaction()
            await lock.start()
            await locker.execute("LOCK TABLE push_subscription IN ACCESS EXCLUSIVE MODE")
            requests = [
                asyncio.create_task(_query_on_own_connection(server.url, token))
                for _ in range(IN_FLIGHT)
            ]
            await _until(
                lambda: _count_at_least(_waiting_on_locks(watcher, database), IN_FLIGHT),
                f"{IN_FLIGHT} requests waiting on the lock",
            )

            server.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            with pytest.raises(ConnectionClosed) as closed:
                await live.receive()
            assert closed.value.rcvd is not None, closed.value
            assert closed.value.rcvd.code == 1012, "service restart: reconnect elsewhere"
            await _until(lambda: _refuses_connections(server.url), "new connections refused")
            assert server.process.poll() is None, "the in-flight requests hold the process"
            await lock.rollback()

            answers = await asyncio.gather(*requests)
        for answer in answers:
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"data": {"pushSubscriptions": []}}, answer.text
        returncode = await asyncio.to_thread(server.process.wait, GRACE_S + 10)
        output = server.log.read_text(errors="replace")
        # uvicorn re-raises the signal once it has shut down, so "killed by SIGTERM" is its
        # clean exit; the lifespan's shutdown (pools closed, goodbye said) must have run.
        assert returncode in (0, -signal.SIGTERM), output[-2000:]
        assert "Application shutdown complete" in output, output[-2000:]
        # Every request was done well before the grace period ran out: nothing waited for it.
        assert time.monotonic() - signalled < GRACE_S, "the process waited out the grace period"
    finally:
        await locker.close()
        await watcher.close()


async def _count_at_least(count: Awaitable[int], wanted: int) -> bool:
    return await count >= wanted


async def test_sigterm_lets_running_jobs_finish_and_leaves_queued_ones(
    deployment: Drained,
) -> None:
    worker = deployment.server.worker
    assert worker is not None
    database = deployment.database_url.rsplit("/", 1)[1]
    demo_token_and_link(deployment.database_url)  # seeds the demo person and their tasks
    db = await asyncpg.connect(deployment.database_url)
    watcher = await asyncpg.connect(deployment.database_url)
    # arq keeps job ids outside our key prefix: unique ones, so no earlier run's job (kept an
    # hour) makes the enqueue a silent no-op.
    first, second = (f"drain-{secrets.token_hex(6)}" for _ in range(2))
    queue = await create_pool(
        RedisSettings.from_dsn(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")),
        default_queue_name=deployment.prefix + "arq:queue",
    )
    try:
        rows = await db.fetch(
            'SELECT id, "user" FROM demo_task WHERE recur_days = 0 AND completed_at IS NULL '
            "AND NOT is_deleted ORDER BY id LIMIT 2"
        )
        assert len(rows) == 2, "the demo person has one-off tasks"
        running, user, queued = rows[0]["id"], rows[0]["user"], rows[1]["id"]
        lock = db.transaction()
        await lock.start()
        await db.execute("LOCK TABLE demo_task IN ACCESS EXCLUSIVE MODE")
        assert await queue.enqueue_job(
            "complete_item", str(user), f"demo:{running}", first, _job_id=first
        )
        await _until(
            lambda: _count_at_least(_waiting_on_locks(watcher, database), 1),
            "the job waiting on the lock",
        )

        worker.send_signal(signal.SIGTERM)
        log = deployment.server.log.with_name(
            f"worker-{deployment.server.url.rsplit(':', 1)[1]}.log"
        )
        await _until(
            lambda: _async_true("stopping on SIGTERM" in log.read_text(errors="replace")),
            "the worker saw the signal",
        )
        assert await queue.enqueue_job(
            "complete_item", str(user), f"demo:{queued}", second, _job_id=second
        )
        assert worker.poll() is None, "the running job holds the worker"
        await lock.rollback()

        returncode = await asyncio.to_thread(worker.wait, GRACE_S + 10)
        assert returncode == 0, log.read_text(errors="replace")[-2000:]
        finished = Job(first, queue, _queue_name=deployment.prefix + "arq:queue")
        assert await finished.result(timeout=30) is True, "the running job finished"
        left = Job(second, queue, _queue_name=deployment.prefix + "arq:queue")
        assert await left.status() == JobStatus.queued, "a job after the signal stays queued"
        done = await db.fetch(
            "SELECT id, completed_at FROM demo_task WHERE id = ANY($1::uuid[])",
            [running, queued],
        )
        closed = {r["id"]: r["completed_at"] is not None for r in done}
        assert closed == {running: True, queued: False}, closed
    finally:
        for job_id in (first, second):
            await queue.delete(*(f"arq:{kind}:{job_id}" for kind in ("job", "result", "retry")))
        await queue.aclose()
        await db.close()
        await watcher.close()


async def _async_true(value: bool) -> bool:
    return value
