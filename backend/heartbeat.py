"""Heartbeats: every web process and worker says, every few seconds, that it lives and how it is.

One Redis hash per role (`web`, `worker`) maps an instance id (host:pid) to its latest beat, a
small JSON object. The console's health rollup reads them; a beat older than STALE_S makes the
rollup amber, and one older than GONE_S counts as a process that went away (it is pruned).
Writing never raises: a process whose Redis is away keeps serving, and simply stops beating.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from backend.redis import get_redis, key

log = logging.getLogger("oo.heartbeat")

BEAT_S = 5.0
STALE_S = 15.0
GONE_S = 60.0
STARTED_AT = time.time()


def instance_id() -> str:
    """This process, as host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def app_version() -> str:
    """The installed oO version."""
    try:
        return version("oo")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown"


@dataclass(frozen=True)
class Beat:
    """One process's latest beat."""

    role: str
    instance: str
    at: float
    started_at: float
    version: str
    figures: Mapping[str, Any] = field(default_factory=dict)

    @property
    def age_s(self) -> float:
        """Seconds since the beat."""
        return max(0.0, time.time() - self.at)

    @property
    def uptime_s(self) -> float:
        """Seconds since the process started."""
        return max(0.0, time.time() - self.started_at)


def _hash(role: str) -> str:
    return key("heartbeats", role)


async def beat(role: str, figures: Mapping[str, Any]) -> None:
    """Record that this process lives, with its figures (open subscriptions, jobs, …)."""
    body = {
        "at": time.time(),
        "started_at": STARTED_AT,
        "version": app_version(),
        "figures": dict(figures),
    }
    try:
        await get_redis().hset(_hash(role), instance_id(), json.dumps(body))  # type: ignore[misc]
    except Exception as err:  # Redis away: the rollup will show the beat getting old
        log.debug("heartbeat not written: %s", type(err).__name__)


async def forget(role: str) -> None:
    """Say goodbye on a clean shutdown, so the rollup does not wait GONE_S to notice."""
    try:
        await get_redis().hdel(_hash(role), instance_id())  # type: ignore[misc]
    except Exception as err:
        log.debug("heartbeat not removed: %s", type(err).__name__)


async def beats(role: str) -> list[Beat]:
    """The live processes of a role (beat within GONE_S), oldest started first."""
    raw: dict[str, str] = await get_redis().hgetall(_hash(role))  # type: ignore[misc]
    now = time.time()
    found: list[Beat] = []
    gone: list[str] = []
    for instance, body in raw.items():
        data = json.loads(body)
        if now - float(data["at"]) > GONE_S:
            gone.append(instance)
            continue
        found.append(
            Beat(
                role=role,
                instance=instance,
                at=float(data["at"]),
                started_at=float(data["started_at"]),
                version=str(data.get("version", "unknown")),
                figures=data.get("figures", {}),
            )
        )
    if gone:
        await get_redis().hdel(_hash(role), *gone)  # type: ignore[misc]
    return sorted(found, key=lambda b: b.started_at)


async def keep_beating(role: str, figures: Callable[[], Mapping[str, Any]]) -> None:
    """Beat every BEAT_S until cancelled (a web process's lifespan runs this)."""
    while True:
        await beat(role, figures())
        await asyncio.sleep(BEAT_S)
