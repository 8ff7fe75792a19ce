"""Simulation runs end to end: start (queue a job), execute (job or CLI), follow (subscription).

The simulator itself is pure CPU work (runner.py); `execute` runs it in a thread so the event
loop of the worker (or the CLI) keeps publishing progress, and stores the outcome. Progress is
published on the bus as `signals.sim.progress` — about once per percent — and written to the run
row, so `simulations` shows how far a run is even to someone who did not subscribe.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from redis.exceptions import RedisError

from backend.audit import record
from backend.events import bus, live
from backend.events.contracts import SimProgress
from backend.queue import enqueue
from backend.redis import get_redis, key
from backend.simulation import store
from backend.simulation.metrics import summarise
from backend.simulation.runner import Progress, SimConfig, make_users, policy_order, simulate

log = logging.getLogger("oo.simulation")

SUBJECT = "signals.sim.progress"
JOB = "run_simulation"
CANCELLED = "cancelled by an admin"
CANCEL_TTL_S = 7 * 86400
"""How long a cancellation request is kept (a run still queued that long is gone anyway)."""
MAX_DECISIONS = 2_000_000
"""Most simulated decisions (over every policy) one run may ask for through the API."""


def total_decisions(config: SimConfig) -> int:
    """Decisions the run will simulate, the oracle included."""
    return len(make_users(config)) * config.decisions * len(policy_order(config))


class RunCancelled(Exception):
    """Raised in the simulator's thread to stop a run whose job was cancelled."""


class CancelRefused(Exception):
    """A run that cannot be cancelled: unknown (code NOT_FOUND) or already ended (ENDED)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _cancel_key(run_id: str) -> str:
    return key("sim", "cancel", run_id)


async def cancel_requested(run_id: str) -> bool:
    """Whether an admin asked to stop this run (never, for a CLI run without Redis)."""
    try:
        return bool(await get_redis().exists(_cancel_key(run_id)))
    except (RedisError, OSError):
        return False


async def cancel(run_id: str, actor_user_id: str, reason: str) -> store.RunView:
    """Stop a queued or running run, audit-logged with the reason.

    A queued run is marked failed at once (the worker then leaves it alone); a running one is
    flagged in Redis, and `execute` stops the simulator at its next progress tick. The flag is
    set first either way, so a worker that starts the run meanwhile still stops it.
    """
    view = await store.get_run(run_id)
    if view is None:
        raise CancelRefused("NOT_FOUND", "No such simulation.")
    if view.status in store.TERMINAL:
        raise CancelRefused("ENDED", f"This run already {view.status}.")
    await get_redis().set(_cancel_key(view.id), reason, ex=CANCEL_TTL_S)
    if await store.cancel_queued(view.id, CANCELLED):
        await Publisher(view.id, actor_user_id, required=False).send(
            store.FAILED, 0, view.total, error=CANCELLED
        )
    await record(
        actor_user_id, "simulation.cancel", view.id, {"reason": reason, "status": view.status}
    )
    after = await store.get_run(view.id)
    assert after is not None
    return after


class Publisher:
    """Publishes progress for one run; the CLI keeps going when Redis is not there."""

    def __init__(self, run_id: str, user_id: str, required: bool) -> None:
        self.run_id = run_id
        self.user_id = user_id
        self.required = required
        self.enabled = True

    async def send(self, status: str, done: int, total: int, **extra: Any) -> None:
        """One progress event (best effort unless `required`)."""
        if not self.enabled:
            return
        try:
            await bus.publish(self.user_id, SimProgress(self.run_id, status, done, total, **extra))
        except Exception:
            if self.required:
                raise
            self.enabled = False
            log.warning("no event bus: progress of run %s is not published", self.run_id)


async def start(config: SimConfig, actor_user_id: str) -> store.RunView:
    """Validate, store a queued run, audit it, and queue the job (ValueError: refused)."""
    config.validate()
    total = total_decisions(config)
    if total > MAX_DECISIONS:
        raise ValueError(
            f"this run would simulate {total} decisions; at most {MAX_DECISIONS} through the API "
            "(use `oo sim` for larger runs)"
        )
    run_id = await store.create_run(config.as_dict(), "graphql", total)
    await record(actor_user_id, "simulation.start", run_id, {"config": config.as_dict()})
    await Publisher(run_id, actor_user_id, required=True).send(store.QUEUED, 0, total)
    await enqueue(JOB, run_id, actor_user_id, job_id=f"sim:{run_id}")
    view = await store.get_run(run_id)
    assert view is not None
    return view


async def execute(
    run_id: str,
    user_id: str = "",
    on_progress: Callable[[Progress], None] | None = None,
    publish_required: bool = True,
) -> store.RunView | None:
    """Run a stored (queued) run to its end; None when there is no such run.

    A run that is not queued (already running elsewhere, or done) is returned untouched.
    """
    view = await store.get_run(run_id)
    if view is None or view.status != store.QUEUED:
        return view
    config = SimConfig.from_dict(view.config)
    publisher = Publisher(run_id, user_id, publish_required)
    await asyncio.shield(store.mark_running(run_id))  # see set_progress below
    await publisher.send(store.RUNNING, 0, view.total)
    loop = asyncio.get_running_loop()
    updates: asyncio.Queue[Progress] = asyncio.Queue()

    stop = threading.Event()
    if await cancel_requested(run_id):  # cancelled while the worker was picking it up
        stop.set()
    done = 0

    def progress(p: Progress) -> None:  # called in the simulator's thread
        if stop.is_set():  # a thread cannot be killed: it stops itself at the next tick
            raise RunCancelled
        if on_progress is not None:
            on_progress(p)
        loop.call_soon_threadsafe(updates.put_nowait, p)

    job = asyncio.ensure_future(asyncio.to_thread(simulate, config, progress))
    # After a cancellation nobody awaits the thread's outcome (RunCancelled): retrieve it here.
    job.add_done_callback(lambda f: f.cancelled() or f.exception())
    try:
        while not job.done():
            getter = asyncio.ensure_future(updates.get())
            await asyncio.wait({job, getter}, return_when=asyncio.FIRST_COMPLETED)
            if not getter.done():
                getter.cancel()
                continue
            p = getter.result()
            done = p.done
            if not stop.is_set() and await cancel_requested(run_id):
                stop.set()  # the simulator's thread raises RunCancelled at its next tick
            await publisher.send(
                store.RUNNING, p.done, p.total, policy_id=p.policy_id, mean_reward=p.mean_reward
            )
            # Shielded: a cancellation landing inside the write would leave SQLite's write
            # lock held by a transaction that never ends, and every later writer waits on it.
            await asyncio.shield(store.set_progress(run_id, p.done))
        result = job.result()
        await asyncio.shield(store.finish_run(run_id, summarise(result), result.events, view.total))
    except asyncio.CancelledError:  # the job's timeout, or the worker shutting down
        stop.set()
        # The cancellation may have landed inside a database transaction, leaving it as the
        # task's "current" one: record the failure from a task with a fresh context, shielded.
        cleanup = asyncio.get_running_loop().create_task(
            _cancelled(run_id, publisher, view.total), context=contextvars.Context()
        )
        await asyncio.shield(cleanup)
        raise
    except RunCancelled:
        await asyncio.shield(store.fail_run(run_id, CANCELLED))
        await publisher.send(store.FAILED, done, view.total, error=CANCELLED)
        return await store.get_run(run_id)
    except Exception as err:
        await store.fail_run(run_id, f"{type(err).__name__}: {err}")
        await publisher.send(store.FAILED, 0, view.total, error=str(err)[:500])
        raise
    await publisher.send(store.FINISHED, view.total, view.total)
    return await store.get_run(run_id)


async def _cancelled(run_id: str, publisher: Publisher, total: int) -> None:
    await store.fail_run(run_id, "cancelled (job timeout or worker shutdown)")
    await publisher.send(store.FAILED, 0, total, error="cancelled")


async def follow(run_id: str) -> AsyncIterator[SimProgress]:
    """The run's state now, then its progress events until it finishes or fails.

    The stream position is taken before the run is read, so an event published in between is
    delivered rather than lost.
    """
    newest = await get_redis().xrevrange(bus.stream_key(), count=1)
    after = newest[0][0] if newest else "0-0"
    view = await store.get_run(run_id)
    if view is None:
        return
    yield SimProgress(view.id, view.status, view.done, view.total, error=view.error)
    if view.status in store.TERMINAL:
        return
    async for event in live.subscribe([SUBJECT], None, after=after):
        if event.payload.get("run_id") != view.id:
            continue
        progress = SimProgress(**event.payload)
        yield progress
        if progress.status in store.TERMINAL:
            return
