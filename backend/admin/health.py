"""The health rollup: web processes, workers, database, Redis, model gateway, integrations.

Each part is checked with a deadline (a part that does not answer is red, never a hung page),
and says green / amber / red with the reason in words. Figures marked `volatile` (latencies,
ages) change on every check; the `health` subscription pushes when anything else changes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from piccolo.query.functions.aggregate import Count

from backend import heartbeat
from backend.db import engine
from backend.events.bus import stream_key
from backend.integrations.tables import Integration
from backend.llm.config import load_gateway_config
from backend.llm.tables import LlmCall
from backend.queue import queue_name
from backend.redis import get_redis
from backend.settings import get_settings

GREEN, AMBER, RED = "green", "amber", "red"
ORDER = {GREEN: 0, AMBER: 1, RED: 2}
CHECK_TIMEOUT_S = 2.0
SLOW_DB_MS, SLOW_REDIS_MS = 100.0, 50.0
QUEUE_WAIT_AMBER_S, QUEUE_WAIT_RED_S = 60.0, 600.0


@dataclass(frozen=True)
class Figure:
    """One labelled reading."""

    label: str
    value: str
    volatile: bool = False


@dataclass(frozen=True)
class Instance:
    """One web process or worker, from its heartbeat."""

    role: str
    id: str
    version: str
    uptime_s: float
    beat_age_s: float
    figures: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Component:
    """One part of the system and how it is."""

    name: str
    status: str
    reason: str
    figures: tuple[Figure, ...] = ()
    instances: tuple[Instance, ...] = ()


@dataclass(frozen=True)
class Health:
    """The rollup: the worst part's status, and every part."""

    status: str
    checked_at: datetime
    components: tuple[Component, ...]

    def signature(self) -> tuple[object, ...]:
        """What the subscription compares: everything but the volatile figures."""
        return tuple(
            (
                c.name,
                c.status,
                c.reason,
                tuple((f.label, f.value) for f in c.figures if not f.volatile),
            )
            for c in self.components
        )


def _worst(*statuses: str) -> str:
    return max(statuses, key=ORDER.__getitem__, default=GREEN)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _instances(beats: list[heartbeat.Beat]) -> tuple[Instance, ...]:
    return tuple(
        Instance(
            b.role,
            b.instance,
            b.version,
            b.uptime_s,
            b.age_s,
            {k: int(v) for k, v in b.figures.items()},
        )
        for b in beats
    )


def _stale(beats: list[heartbeat.Beat]) -> list[heartbeat.Beat]:
    return [b for b in beats if b.age_s > heartbeat.STALE_S]


async def web() -> Component:
    beats = await heartbeat.beats("web")
    subscriptions = sum(int(b.figures.get("subscriptions", 0)) for b in beats)
    figures = (
        Figure("processes", str(len(beats))),
        Figure("open subscriptions", str(subscriptions)),
    )
    if not beats:
        return Component("web", RED, "No web process is beating.", figures)
    if stale := _stale(beats):
        names = ", ".join(f"{b.instance} ({b.age_s:.0f} s)" for b in stale)
        return Component("web", AMBER, f"Late heartbeat: {names}.", figures, _instances(beats))
    return Component("web", GREEN, f"{len(beats)} serving.", figures, _instances(beats))


async def workers() -> Component:
    beats = await heartbeat.beats("worker")
    redis = get_redis()
    now_ms = time.time() * 1000
    depth = int(await redis.zcard(queue_name()))
    oldest = await redis.zrangebyscore(
        queue_name(), "-inf", now_ms, start=0, num=1, withscores=True
    )
    wait_s = max(0.0, (now_ms - oldest[0][1]) / 1000) if oldest else 0.0
    running = sum(int(b.figures.get("jobs_running", 0)) for b in beats)
    failed = sum(int(b.figures.get("failed_last_hour", 0)) for b in beats)
    figures = (
        Figure("workers", str(len(beats))),
        Figure("jobs running", str(running)),
        Figure("queue depth", str(depth)),
        Figure("oldest queued job", f"{wait_s:.0f} s", volatile=True),
        Figure("failed last hour", str(failed)),
    )
    instances = _instances(beats)
    if not beats:
        return Component("workers", RED, "No worker is running: jobs wait.", figures)
    if wait_s > QUEUE_WAIT_RED_S:
        return Component(
            "workers", RED, f"A job has waited {wait_s:.0f} s to start.", figures, instances
        )
    problems = []
    if stale := _stale(beats):
        problems.append("late heartbeat: " + ", ".join(b.instance for b in stale))
    if wait_s > QUEUE_WAIT_AMBER_S:
        problems.append(f"a job has waited {wait_s:.0f} s")
    if failed:
        problems.append(f"{failed} job(s) failed in the last hour")
    if problems:
        return Component(
            "workers", AMBER, "; ".join(problems).capitalize() + ".", figures, instances
        )
    return Component("workers", GREEN, f"{len(beats)} working.", figures, instances)


async def database() -> Component:
    started = time.perf_counter()
    await engine().run_ddl("SELECT 1")
    latency = _ms(started)
    figures = [Figure("probe latency", f"{latency:.1f} ms", volatile=True)]
    if get_settings().uses_postgres:
        rows = await engine().run_ddl(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database()"
        )
        figures.append(Figure("connections", str(dict(rows[0])["n"]), volatile=True))
    if latency > SLOW_DB_MS:
        return Component("database", AMBER, f"Slow: a probe took {latency:.0f} ms.", tuple(figures))
    return Component("database", GREEN, "Answering.", tuple(figures))


async def redis_part() -> Component:
    redis = get_redis()
    started = time.perf_counter()
    await redis.ping()
    latency = _ms(started)
    memory = await redis.info("memory")
    length = int(await redis.xlen(stream_key()))
    figures = (
        Figure("ping latency", f"{latency:.1f} ms", volatile=True),
        Figure("memory", str(memory.get("used_memory_human", "?")), volatile=True),
        Figure("event stream length", str(length), volatile=True),
    )
    if latency > SLOW_REDIS_MS:
        return Component("redis", AMBER, f"Slow: a ping took {latency:.0f} ms.", figures)
    return Component("redis", GREEN, "Answering.", figures)


async def model_gateway() -> Component:
    config = load_gateway_config()
    models = sorted({str(d["litellm_params"]["model"]) for d in config.model_list})
    last = (
        await LlmCall.select(LlmCall.model, LlmCall.outcome, LlmCall.latency_ms, LlmCall.created_at)
        .order_by(LlmCall.created_at, ascending=False)
        .first()
    )
    figures = [Figure("models", ", ".join(models) or "none (template writer)")]
    if last is None:
        return Component("model gateway", GREEN, "No model call yet.", tuple(figures))
    figures.append(
        Figure("last call", f"{last['outcome']} in {last['latency_ms']:.0f} ms", volatile=True)
    )
    recent = datetime.now(UTC) - last["created_at"] < timedelta(hours=1)
    if last["outcome"] == "error" and recent:
        return Component(
            "model gateway", AMBER, f"The last call to {last['model']} failed.", tuple(figures)
        )
    return Component("model gateway", GREEN, "Answering.", tuple(figures))


async def integrations() -> Component:
    rows = (
        await Integration.select(Integration.status, Count(Integration.id, alias="n"))
        .where(Integration.status.is_in(["needs_reconnect", "needs_attention"]))
        .group_by(Integration.status)
    )
    counts = {r["status"]: int(r["n"]) for r in rows}
    reconnect, attention = counts.get("needs_reconnect", 0), counts.get("needs_attention", 0)
    figures = (
        Figure("need reconnecting", str(reconnect)),
        Figure("need attention", str(attention)),
    )
    if reconnect or attention:
        return Component(
            "integrations",
            AMBER,
            f"{reconnect + attention} connection(s) need a person's attention.",
            figures,
        )
    return Component("integrations", GREEN, "Every connection syncs.", figures)


CHECKS: tuple[tuple[str, Callable[[], Awaitable[Component]]], ...] = (
    ("web", web),
    ("workers", workers),
    ("database", database),
    ("redis", redis_part),
    ("model gateway", model_gateway),
    ("integrations", integrations),
)


async def _checked(name: str, check: Callable[[], Awaitable[Component]]) -> Component:
    try:
        return await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
    except TimeoutError:
        return Component(name, RED, f"Did not answer within {CHECK_TIMEOUT_S:.0f} s.")
    except Exception as err:  # the part is down: say so, never fail the rollup
        return Component(name, RED, f"Unreachable ({type(err).__name__}).")


async def check() -> Health:
    """Check every part at once."""
    parts = await asyncio.gather(*(_checked(name, fn) for name, fn in CHECKS))
    return Health(_worst(*(p.status for p in parts)), datetime.now(UTC), tuple(parts))
