"""v0: a uniformly random candidate. The baseline every learning policy must beat."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from backend.contracts.candidate import Candidate
from backend.recommender.features import Context
from backend.recommender.policies.base import Decision, UserState


class RandomPolicy:
    """Uniform choice (propensity 1/n): the cleanest log for off-policy evaluation."""

    id = "random"
    version = "1"
    description = "Uniformly random candidate; learns nothing (the baseline)."

    def __init__(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)

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
            choice=int(self._rng.integers(n)),
            propensity=1.0 / n,
            scores=[1.0 / n] * n,
            explored=True,
            probabilities=[1.0 / n] * n,
        )

    def update(
        self, user_state: UserState, context: Context, candidate: Candidate, reward: float
    ) -> UserState:
        """Count the update; nothing is learned."""
        return {**user_state, "updates": int(user_state.get("updates", 0)) + 1}
