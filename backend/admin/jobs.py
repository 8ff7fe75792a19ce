"""The admin domain's jobs: keeping the console's rollups current."""

from __future__ import annotations

from typing import Any

from arq.cron import cron

from backend.admin.quality_rollups import refresh_quality
from backend.admin.rollups import refresh
from backend.settings import get_settings

ROLLUP_JOB = "refresh_admin_rollups"


async def refresh_admin_rollups(ctx: dict[str, Any]) -> dict[str, int]:
    """Summarise the days whose tips changed since the last run (idempotent)."""
    if not get_settings().admin_rollups:
        return {"days": 0, "people": 0}
    return await refresh()


async def refresh_quality_rollups(ctx: dict[str, Any]) -> dict[str, int]:
    """Summarise feature gaps, signal coverage and writer rewards of changed days."""
    if not get_settings().admin_rollups:
        return {"days": 0, "person_days": 0}
    return await refresh_quality()


JOBS = [refresh_admin_rollups, refresh_quality_rollups]
CRON_JOBS = [
    # Every minute, one at a time (unique): the console is at most a minute behind the log.
    cron(refresh_admin_rollups, second=15, unique=True, run_at_startup=False, timeout=600),
    cron(refresh_quality_rollups, second=45, unique=True, run_at_startup=False, timeout=600),
]
