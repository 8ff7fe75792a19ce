"""Learning from a reaction: every running policy (active and shadows) updates its user state.

Runs inside the reaction's transaction, after the feedback row is written, so the feedback and
every policy's new state commit together or not at all. Policies learn from the features logged
when the tip was served — what they saw when they (or the active policy) picked — not from what
the item looks like now.
"""

from __future__ import annotations

import logging
from typing import Any

from backend.contracts.candidate import Candidate
from backend.contracts.json import json_object
from backend.recommender.features import Context
from backend.recommender.policies import Policy, UserState
from backend.recommender.population import population_priors
from backend.recommender.registry import serving
from backend.recommender.state import (
    StoredState,
    lock_user_learning,
    save_states,
    state_for,
    stored_states,
)

log = logging.getLogger("oo.recommender.learning")


def served_candidate(row: dict[str, Any]) -> Candidate:
    """The served candidate as the decision log remembers it."""
    return Candidate(
        item_ref=row["item_ref"],
        source=row["source"],
        kind=row["kind"],
        content=row["content"],
        project=row.get("project") or "",
    )


async def learn(
    user_id: str, timezone: str, row: dict[str, Any], reward: float
) -> dict[str, StoredState]:
    """Update every running policy's state for this user; returns all of the person's states
    as stored after it (what learned and what did not).

    A policy that fails to update is logged and skipped (its state stays as it was); a failure
    to store the states raises, which rolls the whole reaction back.
    """
    await lock_user_learning(user_id)
    new, stored = await updated_states(user_id, timezone, row, reward)
    return await save_states(user_id, new, stored)


async def updated_states(
    user_id: str, timezone: str, row: dict[str, Any], reward: float
) -> tuple[dict[str, tuple[Policy, UserState]], dict[str, StoredState]]:
    """Every running policy's new state for this user (not written), and the stored states it
    started from: call inside the reaction's transaction, holding the learning lock."""
    active, shadows = await serving()
    stored = await stored_states(user_id)
    features = row.get("features")
    context = Context(
        now=row["served_at"],
        timezone=timezone,
        features={row["item_ref"]: json_object(features)},
        priors=await population_priors(),
    )
    candidate = served_candidate(row)
    new: dict[str, tuple[Policy, UserState]] = {}
    for policy in (active, *shadows):
        try:
            new[policy.id] = (
                policy,
                policy.update(state_for(policy, stored), context, candidate, reward),
            )
        except Exception:  # one broken policy must not lose the person's reaction
            log.exception("policy %s failed to learn", policy.id)
    return new, stored
