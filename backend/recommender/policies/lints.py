"""lints-v1: linear Thompson sampling (Agrawal & Goyal, 2013) on the seed's 7 features.

Posterior N(μ, v² A⁻¹) with A = λI + Σ x xᵀ, kept as a Potter square-root factor (linear.py).
Plain Thompson sampling draws one model and takes its argmax; the probability of that pick has
no closed form, and off-policy evaluation needs it. So each decision draws M models, takes the
argmax frequencies p̂ (an unbiased estimate of the Thompson pick distribution), mixes in ε
uniform, and draws the pick from p = (1 − ε) p̂ + ε/n — whose probabilities are then exact for
the pick actually made.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from backend.contracts.candidate import Candidate
from backend.recommender.features import Context
from backend.recommender.policies.base import Decision, UserState, contributions, draw, seed_matrix
from backend.recommender.policies.egreedy import clip_reward
from backend.recommender.policies.linear import SqrtPosterior, argmax_frequencies_by_draw
from backend.recommender.policies.vectors import SEED7_NAMES, seed7


def load_posterior(state: UserState, d: int, lam: float) -> SqrtPosterior:
    """The stored posterior, or the prior when the state is absent or malformed."""
    try:
        model = SqrtPosterior.load(state)
    except (KeyError, TypeError, ValueError):
        return SqrtPosterior.fresh(d, lam)
    return model if model.mu.shape == (d,) else SqrtPosterior.fresh(d, lam)


def thompson_pick(
    rng: np.random.Generator,
    X: np.ndarray,
    mean: np.ndarray,
    model: SqrtPosterior,
    scale: float,
    draws: int,
    epsilon: float,
) -> tuple[int, np.ndarray, np.ndarray]:
    """(choice, pick distribution, mean scores) of ε-mixed Monte-Carlo Thompson sampling.

    `mean` is the weight vector the samples centre on (μ, or a population mean plus μ).
    """
    thetas = mean[:, None] + model.perturbations(rng, draws, scale)
    n = X.shape[0]
    sampled = thetas.T @ X.T  # draws × n: each model's scores contiguous (see linear.py)
    probs = (1.0 - epsilon) * argmax_frequencies_by_draw(sampled) + epsilon / n
    return draw(rng, probs), probs, X @ mean


class LinearThompson:
    """Thompson sampling with exact propensities (see module docstring)."""

    id = "lints-v1"
    version = "1"
    description = "Linear Thompson sampling (v = 0.5, 16 draws, ε = 0.02) on the seed's 7 features."
    scale = 0.5
    draws = 16
    epsilon = 0.02
    lam = 1.0
    names = SEED7_NAMES

    def __init__(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)

    def initial_state(self) -> UserState:
        """Prior N(0, I/λ)."""
        return SqrtPosterior.fresh(len(self.names), self.lam).dump()

    def score(
        self, user_state: UserState, context: Context, candidates: Sequence[Candidate]
    ) -> Decision:
        """Sample, count the winners, mix, draw."""
        X = seed_matrix(context, candidates, weekday=True)
        model = load_posterior(user_state, len(self.names), self.lam)
        choice, probs, means = thompson_pick(
            self._rng, X, model.mu, model, self.scale, self.draws, self.epsilon
        )
        return Decision(
            choice=choice,
            propensity=float(probs[choice]),
            scores=means.tolist(),
            explored=bool(means[choice] < means.max() - 1e-12),
            probabilities=probs.tolist(),
            contributions=contributions(self.names, X[choice], model.mu),
        )

    def update(
        self, user_state: UserState, context: Context, candidate: Candidate, reward: float
    ) -> UserState:
        """One Potter step."""
        model = load_posterior(user_state, len(self.names), self.lam)
        model.update(seed7([context.features_for(candidate)])[0], clip_reward(reward))
        return model.dump()
