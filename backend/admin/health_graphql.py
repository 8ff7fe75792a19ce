"""`health` — the rollup of every part of the system — as a query and as a live subscription."""

# Strawberry's field decorators are untyped; same exemption as pyproject gives `*.graphql`.
# mypy: disallow-untyped-decorators=False

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from datetime import datetime
from enum import Enum

import strawberry

from backend.admin import health as health_service
from backend.graphql.context import Info
from backend.graphql.permissions import IsAdmin

CHECK_EVERY_S = 5.0
PUSH_AT_LEAST_EVERY_S = 15.0


@strawberry.enum
class HealthStatus(Enum):
    """Green: fine. Amber: working, but look. Red: broken."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"


@strawberry.type
class HealthFigure:
    """One labelled reading (latency, queue depth, …)."""

    label: str
    value: str


@strawberry.type
class HealthInstance:
    """One web process or worker, from its heartbeat."""

    role: str
    id: str
    version: str
    uptime_seconds: float
    heartbeat_age_seconds: float
    figures: list[HealthFigure]


@strawberry.type
class HealthComponent:
    """One part: web, workers, database, redis, model gateway, integrations."""

    name: str
    status: HealthStatus
    reason: str
    figures: list[HealthFigure]
    instances: list[HealthInstance]

    @classmethod
    def of(cls, c: health_service.Component) -> HealthComponent:
        """From the rollup."""
        return cls(
            name=c.name,
            status=HealthStatus(c.status),
            reason=c.reason,
            figures=[HealthFigure(label=f.label, value=f.value) for f in c.figures],
            instances=[
                HealthInstance(
                    role=i.role,
                    id=i.id,
                    version=i.version,
                    uptime_seconds=round(i.uptime_s, 1),
                    heartbeat_age_seconds=round(i.beat_age_s, 1),
                    figures=[
                        HealthFigure(label=k.replace("_", " "), value=str(v))
                        for k, v in i.figures.items()
                    ],
                )
                for i in c.instances
            ],
        )


@strawberry.type
class Health:
    """The rollup: overall status (the worst part's) and every part with its reason."""

    status: HealthStatus
    checked_at: datetime
    components: list[HealthComponent]

    @classmethod
    def of(cls, h: health_service.Health) -> Health:
        """From the rollup."""
        return cls(
            status=HealthStatus(h.status),
            checked_at=h.checked_at,
            components=[HealthComponent.of(c) for c in h.components],
        )


@strawberry.type
class HealthQuery:
    """Admin: the health rollup now."""

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="Every part of the system (web processes, workers, database, Redis, model "
        "gateway, integrations): green / amber / red with the reason.",
    )
    async def health(self, info: Info) -> Health:
        return Health.of(await health_service.check())


@strawberry.type
class HealthSubscription:
    """Admin: the health rollup, live."""

    @strawberry.subscription(
        permission_classes=[IsAdmin],
        description=f"The health rollup at once, then whenever a status, reason or count "
        f"changes (checked every {CHECK_EVERY_S:.0f} s; at least every "
        f"{PUSH_AT_LEAST_EVERY_S:.0f} s).",
    )
    async def health(self, info: Info) -> AsyncGenerator[Health, None]:
        last_signature: tuple[object, ...] | None = None
        pushed_at = 0.0
        while True:
            rollup = await health_service.check()
            now = time.monotonic()
            if rollup.signature() != last_signature or now - pushed_at >= PUSH_AT_LEAST_EVERY_S:
                last_signature, pushed_at = rollup.signature(), now
                yield Health.of(rollup)
            await asyncio.sleep(CHECK_EVERY_S)
