"""The Policy protocol, its Decision, and the registry of policies by id.

A policy ranks candidates; it never writes them. `score` picks one and reports the propensity of
that pick (the probability the policy had of choosing it), which off-policy evaluation needs.
`update` folds one observed reward into the per-user state. State is a JSON-serialisable dict so
it lives in the database and any web replica can serve any user.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from backend.recommender.features import Candidate, Context

UserState = dict[str, Any]


@dataclass(frozen=True)
class Decision:
    """The pick: index into the candidates, its propensity, and every candidate's score."""

    choice: int
    propensity: float
    scores: list[float]
    explored: bool = False


class Policy(Protocol):
    """A ranking policy, registered by id and version."""

    id: str
    version: str

    def initial_state(self) -> UserState:
        """The state of a user the policy has never seen."""
        ...

    def score(
        self, user_state: UserState, context: Context, candidates: Sequence[Candidate]
    ) -> Decision:
        """Pick one of `candidates` (non-empty)."""
        ...

    def update(
        self, user_state: UserState, context: Context, candidate: Candidate, reward: float
    ) -> UserState:
        """Return the state after observing `reward` for `candidate` in `context`."""
        ...


class RandomPolicy:
    """v0: a uniformly random candidate (propensity 1/n). The baseline every policy must beat."""

    id = "random"
    version = "1"

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)

    def initial_state(self) -> UserState:
        """Random keeps no state beyond a count of what it has seen."""
        return {"updates": 0}

    def score(
        self, user_state: UserState, context: Context, candidates: Sequence[Candidate]
    ) -> Decision:
        """Uniform choice."""
        if not candidates:
            raise ValueError("no candidates to score")
        n = len(candidates)
        return Decision(
            choice=self._rng.randrange(n), propensity=1.0 / n, scores=[1.0 / n] * n, explored=True
        )

    def update(
        self, user_state: UserState, context: Context, candidate: Candidate, reward: float
    ) -> UserState:
        """Count the update; nothing is learned."""
        return {**user_state, "updates": int(user_state.get("updates", 0)) + 1}


_REGISTRY: dict[str, Policy] = {RandomPolicy.id: RandomPolicy()}
ACTIVE_POLICY_ID = RandomPolicy.id


def register(policy: Policy) -> None:
    """Add a policy to the registry (later issues register learning policies here)."""
    _REGISTRY[policy.id] = policy


def get_policy(policy_id: str) -> Policy:
    """A registered policy by id."""
    return _REGISTRY[policy_id]


def active_policy() -> Policy:
    """The policy whose picks are served."""
    return _REGISTRY[ACTIVE_POLICY_ID]
