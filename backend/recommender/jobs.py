"""arq jobs of the recommender domain."""

from __future__ import annotations

from typing import Any

from arq import cron

from backend.recommender.population import refresh_population


async def refresh_population_priors(ctx: dict[str, Any]) -> dict[str, int]:
    """Fold new feedback into the pooled policies' population models (cold-start priors)."""
    return await refresh_population()


JOBS = [refresh_population_priors]
CRON_JOBS = [
    # Every 10 minutes: the prior moves slowly; `unique` keeps two workers from both running it.
    cron(refresh_population_priors, minute=set(range(0, 60, 10)), unique=True, timeout=600),
]
