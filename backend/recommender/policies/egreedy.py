"""egreedy-v1: the seed's ε-greedy ridge regression (ε = 0.10, d = 7, vectors.SEED7)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from backend.contracts.candidate import Candidate
from backend.recommender.features import Context
from backend.recommender.policies.base import (
    Decision,
    UserState,
    contributions,
    greedy_probabilities,
    seed_matrix,
    uniform_index,
)
from backend.recommender.policies.linear import Ridge
from backend.recommender.policies.vectors import SEED7_NAMES, seed7


def clip_reward(reward: float) -> float:
    """Rewards are in [−1, 1] by construction; anything else (or NaN) is clipped, not learned."""
    value = float(reward)
    if value != value:  # NaN
        return 0.0
    return min(max(value, -1.0), 1.0)  # plain floats: a per-answer call, numpy costs µs here


def load_ridge(state: UserState, d: int, lam: float) -> Ridge:
    """The stored model, or a fresh one when the state is absent or malformed."""
    try:
        model = Ridge.load(state)
    except (KeyError, TypeError, ValueError):
        return Ridge.fresh(d, lam)
    return model if model.b.shape == (d,) else Ridge.fresh(d, lam)


class EpsilonGreedy:
    """Greedy on the ridge estimate with probability 1 − ε, uniform with probability ε.

    Propensity of candidate i: ε/n, plus (1 − ε)/k when it is one of the k tied best.
    """

    id = "egreedy-v1"
    version = "1"
    description = "The seed's ε-greedy (ε = 0.10) ridge regression on 7 features."
    epsilon = 0.10
    lam = 1.0
    names = SEED7_NAMES

    def __init__(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)

    def initial_state(self) -> UserState:
        """Weights 0, precision λI."""
        return Ridge.fresh(len(self.names), self.lam).dump()

    def score(
        self, user_state: UserState, context: Context, candidates: Sequence[Candidate]
    ) -> Decision:
        """Explore with probability ε, else the best estimate (ties broken at random)."""
        X = seed_matrix(context, candidates, weekday=True)
        theta, _ = Ridge.scoring(user_state, len(self.names), self.lam, with_inverse=False)
        values = X @ theta
        probs = greedy_probabilities(values, self.epsilon)
        n = len(candidates)
        explored = bool(self._rng.random() < self.epsilon)
        if explored:
            choice = int(self._rng.integers(n))
        else:
            choice = uniform_index(self._rng, np.flatnonzero(probs == probs.max()))
        return Decision(
            choice=choice,
            propensity=float(probs[choice]),
            scores=values.tolist(),
            explored=explored,
            probabilities=probs.tolist(),
            contributions=contributions(self.names, X[choice], theta),
        )

    def update(
        self, user_state: UserState, context: Context, candidate: Candidate, reward: float
    ) -> UserState:
        """One Sherman–Morrison step."""
        model = load_ridge(user_state, len(self.names), self.lam)
        model.update(seed7([context.features_for(candidate)])[0], clip_reward(reward))
        return model.dump()
