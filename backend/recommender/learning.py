"""Learning from a reaction: the active policy updates its user state on the request path.

Runs inside the reaction's transaction, after the feedback row is written, so the feedback and
the active policy's new state commit together or not at all: the next pick scores with it. The
shadow policies learn the same reward in the worker, in order with the decisions they score
(shadow_replay.py, ADR 0046). Policies learn from the features logged when the tip was served —
what they saw when they (or the active policy) picked — not from what the item looks like now.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
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
    """The served candidate as the decision log remembers it: with its priority and length
    from the logged features, as the pick saw them (the person's cells are keyed by both)."""
    features = row.get("features")
    logged = features if isinstance(features, dict) else {}
    priority, minutes = logged.get("priority"), logged.get("duration_min")
    return Candidate(
        item_ref=row["item_ref"],
        source=row["source"],
        kind=row["kind"],
        content=row["content"],
        project=row.get("project") or "",
        priority=int(priority) if isinstance(priority, int | float) else 1,
        duration_min=int(minutes) if isinstance(minutes, int | float) and minutes > 0 else None,
    )


async def learn(
    user_id: str, timezone: str, row: dict[str, Any], reward: float
) -> dict[str, StoredState]:
    """Update the active policy's state for this user; returns all of the person's states
    as stored after it (the shadows learn in the worker).

    A policy that fails to update is logged and skipped (its state stays as it was); a failure
    to store the states raises, which rolls the whole reaction back.
    """
    await lock_user_learning(user_id)
    new, stored = await updated_states(user_id, timezone, row, reward)
    return await save_states(user_id, new, stored)


async def updated_states(
    user_id: str, timezone: str, row: dict[str, Any], reward: float
) -> tuple[dict[str, tuple[Policy, UserState]], dict[str, StoredState]]:
    """The active policy's new state for this user (not written), and the stored states it
    started from: call inside the reaction's transaction, holding the learning lock."""
    active, _shadows = await serving()
    stored = await stored_states(user_id)
    return learned([active], stored, timezone, row, reward, await population_priors()), stored


def learned(
    policies: Sequence[Policy],
    stored: Mapping[str, StoredState],
    timezone: str,
    row: dict[str, Any],
    reward: float,
    priors: Mapping[str, Mapping[str, Any]],
) -> dict[str, tuple[Policy, UserState]]:
    """Each policy's state after learning `reward` for the served tip `row` (a policy that
    fails is logged and left out: its state stays as it was)."""
    context = Context(
        now=row["served_at"],
        timezone=timezone,
        features={row["item_ref"]: json_object(row.get("features"))},
        priors=priors,
    )
    candidate = served_candidate(row)
    new: dict[str, tuple[Policy, UserState]] = {}
    for policy in policies:
        try:
            new[policy.id] = (
                policy,
                policy.update(state_for(policy, stored), context, candidate, reward),
            )
        except Exception:  # one broken policy must not lose the person's reaction
            log.exception("policy %s failed to learn", policy.id)
    return new
