"""Off-policy estimators: IPS, SNIPS and doubly robust, with confidence intervals.

For logged decisions i (reward rᵢ, the logging policy's propensity pᵢ of the served candidate,
the target policy's probability πᵢ of that same candidate, wᵢ = πᵢ / pᵢ):

    IPS   = (1/n) Σ wᵢ rᵢ                       unbiased; variance grows with the weights
    SNIPS = Σ wᵢ rᵢ / Σ wᵢ                      self-normalised: slightly biased, far steadier
    DR    = (1/n) Σ [ Σₐ πᵢ(a) q̂ᵢ(a) + wᵢ (rᵢ − q̂ᵢ(aᵢ)) ]
            a reward model q̂ (the direct method) corrected by importance-weighted residuals:
            unbiased when either the propensities or the model are right.

Variants (reported by `oo ope --validate`, not used by promotion): switch-DR keeps the residual
correction only where wᵢ ≤ τ (the model alone answers for the rarely logged picks) and clipped-DR
caps the weight of the correction at τ. Both trade a bias bounded by the model's error on the
heavy-weight picks for a variance bounded by τ.

The reward model is a ridge regression on the logged features of the served candidates
(vectors.oo: bounded, documented scaling) plus a shrunk per-person deviation, cross-fitted over
`FOLDS` folds (the k-th decision of a person falls in fold k mod FOLDS): the model that predicts
a decision was fitted on the other folds only, so a decision's own reward never predicts itself.

Intervals: every estimator here is a mean of per-decision influence terms φᵢ (for SNIPS the
linearised ratio wᵢ (rᵢ − V̂) / w̄), so V̂ ± z · sd(φ) / √n is its normal-approximation interval.
A percentile bootstrap over decisions is available too (`bootstrap` > 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from backend.recommender.policies.vectors import oo

ESTIMATORS = ("ips", "snips", "dr")
VARIANTS = ("switch-dr", "clipped-dr")
"""Validation-only estimators (module docstring)."""
FOLDS = 5
RIDGE_LAMBDA = 1.0
USER_LAMBDA = 10.0
"""Shrinkage of a person's own reward-model deviation towards the population model."""
SWITCH_TAU = 10.0
"""Weight above which switch-DR drops the residual correction and clipped-DR caps it."""


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
    """One estimator's value and its confidence interval."""

    estimator: str
    value: float
    low: float
    high: float


def influence(x: OpeInput, estimator: str, tau: float = SWITCH_TAU) -> np.ndarray:
    """Per-decision terms φᵢ whose mean is the estimate (SNIPS: its linearisation's terms
    shifted by the estimate, so their mean is the estimate too)."""
    w, r = x.weights, x.reward
    if estimator == "ips":
        return np.asarray(w * r)
    if estimator == "snips":
        mean_w = float(w.mean())
        if mean_w <= 0:  # the target never picks what was served
            return np.zeros_like(r)
        value = float((w * r).sum() / w.sum())
        return np.asarray(value + w * (r - value) / mean_w)
    residual = r - x.q_served
    if estimator == "dr":
        return np.asarray(x.direct + w * residual)
    if estimator == "switch-dr":
        return np.asarray(x.direct + np.where(w <= tau, w, 0.0) * residual)
    if estimator == "clipped-dr":
        return np.asarray(x.direct + np.minimum(w, tau) * residual)
    raise KeyError(estimator)


def ips(x: OpeInput) -> float:
    """Inverse propensity scoring."""
    return float(np.mean(influence(x, "ips")))


def snips(x: OpeInput) -> float:
    """Self-normalised IPS (0 when every weight is 0: the target never picks what was served)."""
    return float(np.mean(influence(x, "snips")))


def dr(x: OpeInput) -> float:
    """Doubly robust."""
    return float(np.mean(influence(x, "dr")))


def effective_sample_size(x: OpeInput) -> float:
    """(Σw)² / Σw²: how many decisions the weighted log is worth for this target."""
    w = x.weights
    sq = float((w * w).sum())
    return float(w.sum()) ** 2 / sq if sq > 0 else 0.0


def normal_interval(phi: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high) of the influence terms' normal approximation."""
    n = phi.shape[0]
    value = float(phi.mean())
    se = float(phi.std(ddof=1)) / math.sqrt(n) if n > 1 else 0.0
    z = NormalDist().inv_cdf(0.5 + level / 2)
    return value, value - z * se, value + z * se


def _bootstrap_draws(
    x: OpeInput, names: Sequence[str], seed: int, bootstrap: int
) -> dict[str, np.ndarray]:
    """Each estimator on `bootstrap` resamples of the decisions (bounded memory)."""
    n = x.reward.shape[0]
    rng = np.random.default_rng(seed)
    w, r = x.weights, x.reward
    terms = {k: influence(x, k) for k in names if k != "snips"}
    draws: dict[str, list[np.ndarray]] = {k: [] for k in names}
    chunk = max(1, min(bootstrap, 2_000_000 // n))  # ≤ 2M indices at once
    for start in range(0, bootstrap, chunk):
        idx = rng.integers(0, n, size=(min(chunk, bootstrap - start), n))
        for k in names:
            if k == "snips":  # the ratio itself is resampled, not its linearisation
                total = w[idx].sum(axis=1)
                wr = (w[idx] * r[idx]).sum(axis=1)
                draws[k].append(np.divide(wr, total, out=np.zeros_like(total), where=total > 0))
            else:
                draws[k].append(terms[k][idx].mean(axis=1))
    return {k: np.concatenate(v) for k, v in draws.items()}


def estimate(
    x: OpeInput,
    seed: int = 0,
    bootstrap: int = 0,
    level: float = 0.95,
    names: Sequence[str] = ESTIMATORS,
) -> dict[str, Estimate]:
    """Each estimator with its interval: normal from influence terms, or a percentile
    bootstrap of `bootstrap` resamples when > 0."""
    n = x.reward.shape[0]
    if n == 0:
        raise ValueError("no logged decisions to estimate from")
    out: dict[str, Estimate] = {}
    draws = _bootstrap_draws(x, names, seed, bootstrap) if bootstrap > 0 else {}
    tail = (1.0 - level) / 2 * 100
    for k in names:
        value, low, high = normal_interval(influence(x, k), level)
        if draws:
            low, high = (float(v) for v in np.percentile(draws[k], [tail, 100 - tail]))
        out[k] = Estimate(k, value, low, high)
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


def assign_folds(users: Sequence[str], folds: int = FOLDS) -> np.ndarray:
    """The k-th decision of each person goes to fold k mod `folds`: every fold knows everyone."""
    seen: dict[str, int] = {}
    out = np.empty(len(users), dtype=int)
    for i, user in enumerate(users):
        out[i] = seen.get(user, 0) % folds
        seen[user] = seen.get(user, 0) + 1
    return out


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
    for k in np.unique(folds):
        train = folds != k
        if not train.any():  # a single fold: fit on everything
            train = np.ones_like(folds, dtype=bool)
        population = fit_ridge(served[train], rewards[train])
        for user in np.unique(users):
            mine = train & (users == user)
            X, r = served[mine], rewards[mine] - served[mine] @ population
            personal = np.linalg.solve(X.T @ X + USER_LAMBDA * np.eye(d), X.T @ r)
            models[(int(k), str(user))] = population + personal
    return models
