"""arq jobs of the recommender domain."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from arq import cron

from backend.recommender import outbox
from backend.recommender.habits_cache import fit_and_keep
from backend.recommender.population import refresh_population
from backend.recommender.shadow_replay import replay_pending
from backend.settings import get_settings


async def refresh_population_priors(ctx: dict[str, Any]) -> dict[str, int]:
    """Fold new feedback into the pooled policies' population models (cold-start priors)."""
    return await refresh_population()


async def drain_outbox(ctx: dict[str, Any]) -> dict[str, int]:
    """Send the events and source closes that reactions stored but could not send."""
    return await outbox.drain()


async def fit_choice_model(ctx: dict[str, Any], user_id: str, timezone: str) -> bool:
    """Fit a person's own choice model on their task app's history (off the hot path)."""
    return await fit_and_keep(user_id, timezone, datetime.now(UTC))


async def replay_shadows(ctx: dict[str, Any]) -> dict[str, int]:
    """Let the shadow policies score the new decisions and learn the new rewards (ADR 0046)."""
    if not get_settings().shadow_replay:
        return {"people": 0, "scored": 0, "learned": 0}
    done = await replay_pending(budget_s=SHADOW_PASS_S)
    return {"people": done.people, "scored": done.scored, "learned": done.learned}


SHADOW_PASS_S = 4.0
"""A shadow pass stops taking people after this long: the next starts 5 s after this one did."""

JOBS = [refresh_population_priors, drain_outbox, fit_choice_model, replay_shadows]
CRON_JOBS = [
    # Every 10 minutes: the prior moves slowly; `unique` keeps two workers from both running it.
    cron(refresh_population_priors, minute=set(range(0, 60, 10)), unique=True, timeout=600),
    # Every 15 s: a reaction's close at the source waits at most this long after Redis returns.
    cron(drain_outbox, second={0, 15, 30, 45}, unique=True, timeout=60),
    # Every 5 s: shadow decisions lag the served ones by about that (evidence, not serving).
    cron(replay_shadows, second=set(range(0, 60, 5)), unique=True, timeout=60),
]
