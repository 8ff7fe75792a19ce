"""Connection health per source and completions per person and day (the console's data
quality page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from piccolo.query.functions.aggregate import Count

from backend.integrations.status import DISCONNECTED, NEEDS_ATTENTION, NEEDS_RECONNECT
from backend.integrations.tables import Integration, SourceCompletion


@dataclass(frozen=True)
class SourceHealth:
    """One source's live connections: how many need a reconnect (stale tokens), how many are
    failing to sync now (a failure since the last good sync)."""

    source: str
    connections: int
    needs_reconnect: int
    failing: int


async def source_health() -> list[SourceHealth]:
    """Every source people connected (disconnected ones left out), by name."""
    rows = (
        await Integration.select(Integration.source, Integration.status, Count(alias="n"))
        .where((Integration.status != DISCONNECTED) & Integration.user.deleted_at.is_null())
        .group_by(Integration.source, Integration.status)
    )
    failing_rows = (
        await Integration.select(Integration.source, Count(alias="n"))
        .where(
            (Integration.status != DISCONNECTED)
            & (Integration.failures > 0)
            & Integration.user.deleted_at.is_null()
        )
        .group_by(Integration.source)
    )
    failing = {r["source"]: int(r["n"]) for r in failing_rows}
    totals: dict[str, dict[str, int]] = {}
    for r in rows:
        totals.setdefault(r["source"], {})[r["status"]] = int(r["n"])
    return [
        SourceHealth(
            source=source,
            connections=sum(counts.values()),
            needs_reconnect=counts.get(NEEDS_RECONNECT, 0),
            failing=max(failing.get(source, 0), counts.get(NEEDS_ATTENTION, 0)),
        )
        for source, counts in sorted(totals.items())
    ]


async def completions_on(day: date) -> dict[str, int]:
    """Completions recorded from connected apps on one UTC day, per person."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    rows = (
        await SourceCompletion.select(SourceCompletion.user, Count(alias="n"))
        .where(
            (SourceCompletion.completed_at >= start)
            & (SourceCompletion.completed_at < start + timedelta(days=1))
        )
        .group_by(SourceCompletion.user)
    )
    return {str(r["user"]): int(r["n"]) for r in rows}
