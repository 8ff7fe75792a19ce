"""Off-policy estimators: IPS, SNIPS and doubly robust, with bootstrap confidence intervals.

For logged decisions i (reward rᵢ, the logging policy's propensity pᵢ of the served candidate,
the target policy's probability πᵢ of that same candidate, wᵢ = πᵢ / pᵢ):

    IPS   = (1/n) Σ wᵢ rᵢ                       unbiased; variance grows with the weights
    SNIPS = Σ wᵢ rᵢ / Σ wᵢ                      self-normalised: slightly biased, far steadier
    DR    = (1/n) Σ [ Σₐ πᵢ(a) q̂ᵢ(a) + wᵢ (rᵢ − q̂ᵢ(aᵢ)) ]
            a reward model q̂ (the direct method) corrected by importance-weighted residuals:
            unbiased when either the propensities or the model are right.

The reward model is a ridge regression on the logged features of the served candidates
(vectors.oo: bounded, documented scaling) plus a shrunk per-person deviation, cross-fitted over
two folds (alternate decisions of each person) so a decision's own reward never predicts
itself. Confidence intervals are percentile bootstraps over decisions (the same resamples for
every estimator).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from backend.recommender.policies.vectors import oo

ESTIMATORS = ("ips", "snips", "dr")
RIDGE_LAMBDA = 1.0
USER_LAMBDA = 10.0
"""Shrinkage of a person's own reward-model deviation towards the population model."""
BOOTSTRAP = 500


@dataclass(frozen=True)
class OpeInput:
    """Per-decision arrays the estimators need (all of length n)."""

    reward: np.ndarray
    logging: np.ndarray
    """Logging policy's propensity of the served candidate (> 0)."""
    target: np.ndarray
    """Target policy's probability of the served candidate."""
    direct: np.ndarray
    """Σₐ π(a) q̂(a): the reward model's value of the target's distribution."""
    q_served: np.ndarray
    """q̂ of the served candidate."""

    @property
    def weights(self) -> np.ndarray:
        """Importance weights π / p."""
        return np.asarray(self.target / self.logging)


@dataclass(frozen=True)
class Estimate:
    """One estimator's value and its bootstrap interval."""

    estimator: str
    value: float
    low: float
    high: float


def ips(x: OpeInput) -> float:
    """Inverse propensity scoring."""
    return float(np.mean(x.weights * x.reward))


def snips(x: OpeInput) -> float:
    """Self-normalised IPS (0 when every weight is 0: the target never picks what was served)."""
    w = x.weights
    total = float(w.sum())
    return float((w * x.reward).sum() / total) if total > 0 else 0.0


def dr(x: OpeInput) -> float:
    """Doubly robust."""
    return float(np.mean(x.direct + x.weights * (x.reward - x.q_served)))


def effective_sample_size(x: OpeInput) -> float:
    """(Σw)² / Σw²: how many decisions the weighted log is worth for this target."""
    w = x.weights
    sq = float((w * w).sum())
    return float(w.sum()) ** 2 / sq if sq > 0 else 0.0


def _batch(x: OpeInput, idx: np.ndarray) -> dict[str, np.ndarray]:
    """Each estimator on each row of resampled indices (B × n)."""
    w, r = x.weights[idx], x.reward[idx]
    wr = w * r
    total = w.sum(axis=1)
    return {
        "ips": wr.mean(axis=1),
        "snips": np.divide(wr.sum(axis=1), total, out=np.zeros_like(total), where=total > 0),
        "dr": (x.direct[idx] + w * (r - x.q_served[idx])).mean(axis=1),
    }


def estimate(
    x: OpeInput, seed: int = 0, bootstrap: int = BOOTSTRAP, level: float = 0.95
) -> dict[str, Estimate]:
    """IPS, SNIPS and DR with percentile bootstrap intervals."""
    n = x.reward.shape[0]
    if n == 0:
        raise ValueError("no logged decisions to estimate from")
    point = {"ips": ips(x), "snips": snips(x), "dr": dr(x)}
    rng = np.random.default_rng(seed)
    draws: dict[str, list[np.ndarray]] = {k: [] for k in ESTIMATORS}
    chunk = max(1, min(bootstrap, 2_000_000 // n))  # bounded memory: ≤ 2M indices at once
    for start in range(0, bootstrap, chunk):
        idx = rng.integers(0, n, size=(min(chunk, bootstrap - start), n))
        for k, v in _batch(x, idx).items():
            draws[k].append(v)
    tail = (1.0 - level) / 2 * 100
    out: dict[str, Estimate] = {}
    for k in ESTIMATORS:
        values = np.concatenate(draws[k])
        low, high = np.percentile(values, [tail, 100 - tail])
        out[k] = Estimate(k, point[k], float(low), float(high))
    return out


def design(rows: Sequence[dict[str, float]] | np.ndarray) -> np.ndarray:
    """The reward model's features of candidates (vectors.oo, bounded)."""
    if isinstance(rows, np.ndarray):
        return rows
    return oo(rows)


def fit_ridge(X: np.ndarray, y: np.ndarray, lam: float = RIDGE_LAMBDA) -> np.ndarray:
    """Ridge weights (one solve per fold, offline: not a per-decision inversion)."""
    d = X.shape[1]
    return np.asarray(np.linalg.solve(X.T @ X + lam * np.eye(d), X.T @ y))


def cross_fitted_models(
    served: np.ndarray, rewards: np.ndarray, users: np.ndarray, folds: np.ndarray
) -> dict[tuple[int, str], np.ndarray]:
    """Reward-model weights per (fold, person), each fitted without that fold's decisions.

    A population ridge regression plus, per person, a ridge regression of the population's
    residuals shrunk by USER_LAMBDA: people differ (what one person always does another never
    does), and a model that knows it predicts rewards better, which is what lowers DR's variance.
    """
    models: dict[tuple[int, str], np.ndarray] = {}
    d = served.shape[1]
    for k in (0, 1):
        train = folds != k
        if not train.any():  # a single decision: fit on everything
            train = np.ones_like(folds, dtype=bool)
        population = fit_ridge(served[train], rewards[train])
        for user in np.unique(users):
            mine = train & (users == user)
            X, r = served[mine], rewards[mine] - served[mine] @ population
            personal = np.linalg.solve(X.T @ X + USER_LAMBDA * np.eye(d), X.T @ r)
            models[(k, str(user))] = population + personal
    return models
