"""arq jobs of the recommender domain."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from arq import cron

from backend.recommender import outbox
from backend.recommender.habits_cache import fit_and_keep
from backend.recommender.population import refresh_population


async def refresh_population_priors(ctx: dict[str, Any]) -> dict[str, int]:
    """Fold new feedback into the pooled policies' population models (cold-start priors)."""
    return await refresh_population()


async def drain_outbox(ctx: dict[str, Any]) -> dict[str, int]:
    """Send the events and source closes that reactions stored but could not send."""
    return await outbox.drain()


async def fit_choice_model(ctx: dict[str, Any], user_id: str, timezone: str) -> bool:
    """Fit a person's own choice model on their task app's history (off the hot path)."""
    return await fit_and_keep(user_id, timezone, datetime.now(UTC))


JOBS = [refresh_population_priors, drain_outbox, fit_choice_model]
CRON_JOBS = [
    # Every 10 minutes: the prior moves slowly; `unique` keeps two workers from both running it.
    cron(refresh_population_priors, minute=set(range(0, 60, 10)), unique=True, timeout=600),
    # Every 15 s: a reaction's close at the source waits at most this long after Redis returns.
    cron(drain_outbox, second={0, 15, 30, 45}, unique=True, timeout=60),
]
