"""The admin domain's jobs: keeping the console's rollups and the policies' evidence current."""

from __future__ import annotations

from typing import Any

from arq.cron import cron

from backend.admin import freshness, reward_rollup
from backend.admin.policy_evaluation import evaluate
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


async def refresh_reward_rollup(ctx: dict[str, Any]) -> dict[str, int]:
    """Summarise the hours whose tips changed since the last run (idempotent)."""
    if not get_settings().admin_rollups:
        return {"hours": 0}
    return await reward_rollup.refresh()


async def sample_feature_freshness(ctx: dict[str, Any]) -> dict[str, int]:
    """This hour's sample of the profile features' freshness (once an hour, idempotent)."""
    if not get_settings().admin_rollups:
        return {"features": 0}
    return {"features": await freshness.sample()}


async def evaluate_policies(ctx: dict[str, Any]) -> dict[str, int]:
    """Off-policy estimates of every policy for the policies page (CPU: minutes at most)."""
    e = await evaluate()
    return {"decisions": e.decisions, "policies": len(e.policies)}


JOBS = [
    refresh_admin_rollups,
    refresh_quality_rollups,
    refresh_reward_rollup,
    sample_feature_freshness,
    evaluate_policies,
]
CRON_JOBS = [
    # Every minute, one at a time (unique): the console is at most a minute behind the log.
    # Spread over the minute so the rollups do not all read the log at once.
    cron(refresh_admin_rollups, second=15, unique=True, run_at_startup=False, timeout=600),
    cron(refresh_quality_rollups, second=35, unique=True, run_at_startup=False, timeout=600),
    cron(refresh_reward_rollup, second=50, unique=True, run_at_startup=False, timeout=600),
    # Every 10 minutes; a sample is taken once an hour (a missed run is made up by the next).
    cron(sample_feature_freshness, minute=set(range(2, 60, 10)), second=5, unique=True),
    # Hourly at an odd minute: the policies page's evidence is at most an hour old.
    cron(
        evaluate_policies, minute={23}, second=40, unique=True, run_at_startup=False, timeout=1800
    ),
]
