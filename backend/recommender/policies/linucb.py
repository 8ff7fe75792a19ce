"""linucb-v1: LinUCB (Li et al., 2010) on the seed's 5 features (vectors.SEED5), ε-mixed.

score_i = xᵢᵀθ + α √(xᵢᵀA⁻¹xᵢ) with θ = A⁻¹b; A⁻¹ by Sherman–Morrison. The UCB rule is
deterministic, so the pick is mixed with ε = 0.05 uniform exploration to give every candidate a
propensity > 0 (ε/n at least), as off-policy evaluation needs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from backend.contracts.candidate import Candidate
from backend.recommender.features import Context
from backend.recommender.policies.base import (
    Decision,
    UserState,
    contributions,
    draw,
    greedy_probabilities,
    seed_matrix,
)
from backend.recommender.policies.egreedy import clip_reward, load_ridge
from backend.recommender.policies.linear import Ridge
from backend.recommender.policies.vectors import SEED5_NAMES, seed5


class LinUCB:
    """Optimism in the face of uncertainty, with an ε floor for propensities."""

    id = "linucb-v1"
    version = "1"
    description = "LinUCB (α = 0.5) on the seed's 5 features, ε = 0.05 mixing."
    alpha = 0.5
    epsilon = 0.05
    lam = 1.0
    names = SEED5_NAMES

    def __init__(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)

    def initial_state(self) -> UserState:
        """Weights 0, precision λI."""
        return load_ridge({}, len(self.names), self.lam).dump()

    def score(
        self, user_state: UserState, context: Context, candidates: Sequence[Candidate]
    ) -> Decision:
        """Highest upper confidence bound (ties share), ε-mixed."""
        X = seed_matrix(context, candidates, weekday=False)
        theta, A_inv = Ridge.scoring(user_state, len(self.names), self.lam, with_inverse=True)
        means = X @ theta
        widths = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", X, A_inv, X), 0.0))
        values = means + self.alpha * widths
        probs = greedy_probabilities(values, self.epsilon)
        choice = draw(self._rng, probs)
        return Decision(
            choice=choice,
            propensity=float(probs[choice]),
            scores=values.tolist(),
            # Explored: the pick is not what the point estimate alone would have chosen.
            explored=bool(means[choice] < means.max() - 1e-12),
            probabilities=probs.tolist(),
            contributions=contributions(self.names, X[choice], theta),
        )

    def update(
        self, user_state: UserState, context: Context, candidate: Candidate, reward: float
    ) -> UserState:
        """One Sherman–Morrison step."""
        model = load_ridge(user_state, len(self.names), self.lam)
        model.update(seed5([context.features_for(candidate)])[0], clip_reward(reward))
        return model.dump()
