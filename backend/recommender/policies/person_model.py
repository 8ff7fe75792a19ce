"""The person-level parts of oo-v3: what an answer says, and the person's own linear deviation.

- **What an answer says.** A reward mixes three things: whether the tip got done (the *effect*),
  how long it took (the dwell band of "done") and, when it was not done, snooze or dismiss.
  The candidate's appeal shows in the first; the dwell band and the snooze/dismiss split are
  mostly the person and the moment (how fast they are now, how they say "not now"). So oo-v3
  learns the *probability of done* per candidate and prices it with the person's own average
  reward of a done and of a not-done answer: E[r] = v_not + p(done) × (v_done − v_not). The
  regression target, a 0/1 outcome of variance p(1 − p) ≤ 0.25, is about half as noisy as the
  reward it replaces (≈ 0.5 around its expectation), so the same reactions pin the person's
  weights down about twice as fast. `effect_of` reads the effect back from the reward table
  (backend/recommender/reward.py), so the Policy protocol is unchanged.
- **A hierarchical prior with a per-feature spread.** The person's weights are the population's
  plus a deviation δ ~ N(0, diag(τ²)): τ is wide where people really differ (how much urgency,
  due dates, overdue work, old captures and their own habits move them) and narrow where they
  do not (fatigue, kinds), so their own answers move exactly the terms that differ between
  people, and a handful of answers cannot tip the rest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from backend.recommender.policies.linear import SqrtPosterior
from backend.recommender.reward import (
    DISMISS_REWARD,
    HELPFUL_REWARD,
    NOT_REALLY_REWARD,
    SNOOZE_REWARD,
    TRUE_REWARD,
)

DONE_REWARDS = (-0.3, 0.3, 0.6, 1.0, HELPFUL_REWARD, TRUE_REWARD)
"""Rewards only a "done"-effect answer earns (reward.py: the done bands, helpful, true)."""

NOT_DONE_REWARDS = (SNOOZE_REWARD, DISMISS_REWARD, NOT_REALLY_REWARD)
"""Rewards only snooze- and dismiss-effect answers earn."""

DEFAULT_VALUES = (0.7, -0.45)
"""(v_done, v_not) before the person's own answers: a done mostly in the magic zone; half the
other answers snoozes, half dismissals."""

VALUE_PRIOR = 10.0
"""The default values count as this many answers of each effect."""


def effect_of(reward: float) -> float:
    """1.0 when the reward is one a "done" earns, 0.0 when it is a snooze's or a dismissal's.

    A reward outside the table (tests, a future answer) counts as done when it beats a snooze.
    The tolerance is a 4-byte real's (how PostgreSQL stores a reward read back from the log).
    """
    for value in NOT_DONE_REWARDS:
        if abs(reward - value) < 1e-6:
            return 0.0
    for value in DONE_REWARDS:
        if abs(reward - value) < 1e-6:
            return 1.0
    return 1.0 if reward > SNOOZE_REWARD else 0.0


class Values:
    """The person's mean reward of a done and of a not-done answer, shrunk to the defaults."""

    def __init__(self, raw: Any) -> None:
        self.sums = [0.0, 0.0, 0.0, 0.0]  # n_done, Σ r | done, n_not, Σ r | not
        if isinstance(raw, list) and len(raw) == 4:
            values = [float(v) for v in raw]
            if all(math.isfinite(v) for v in values) and values[0] >= 0 and values[2] >= 0:
                self.sums = values

    def dump(self) -> list[float]:
        """JSON-safe form."""
        return list(self.sums)

    def learn(self, done: float, reward: float) -> None:
        """Fold in one answer."""
        i = 0 if done >= 0.5 else 2
        self.sums[i] += 1.0
        self.sums[i + 1] += reward

    @property
    def done(self) -> float:
        """v_done."""
        n, s = self.sums[0], self.sums[1]
        return (s + VALUE_PRIOR * DEFAULT_VALUES[0]) / (n + VALUE_PRIOR)

    @property
    def not_done(self) -> float:
        """v_not."""
        n, s = self.sums[2], self.sums[3]
        return (s + VALUE_PRIOR * DEFAULT_VALUES[1]) / (n + VALUE_PRIOR)


def diagonal_prior(precision: np.ndarray) -> SqrtPosterior:
    """N(0, diag(1 / precision)) as a square-root posterior (unit noise)."""
    d = precision.shape[0]
    return SqrtPosterior(np.diag(1.0 / np.sqrt(precision)), np.zeros(d), np.zeros(d), 0)


def load_deviation(state: Any, precision: np.ndarray) -> SqrtPosterior:
    """The stored deviation, or the prior when absent or malformed."""
    try:
        model = SqrtPosterior.load(state)
    except (KeyError, TypeError, ValueError, AttributeError):
        return diagonal_prior(precision)
    d = precision.shape[0]
    if model.mu.shape != (d,) or model.S.shape != (d, d):
        return diagonal_prior(precision)
    return model


def prior_precision(names: Sequence[str], spread: dict[str, float], noise: float) -> np.ndarray:
    """Prior precision per feature in unit-noise terms: noise variance / τ² (τ from `spread`)."""
    default = spread.get("*", 0.05)
    return np.array([noise / spread.get(name, default) ** 2 for name in names])
