"""oo-v3: a per-person Bayesian model of "done", shrunk toward the population feature by feature.

p(done | x) ≈ xᵀ(θ_pop + δ_user) + the person's cells, priced as E[r] = v_not + p × (v_done − v_not)
(person_model.py says why the target is the answer's effect, not the reward):

- θ_pop: a ridge regression of the done/not-done outcome on vectors.OO, pooled over consenting
  people (`pooled_update`, run by the population job; a prior only from 20 people on, like
  oo-v1's). Before any data, an expert prior in probability units.
- δ_user ~ N(0, diag(τ²)) with τ per feature (SPREAD): people differ a lot in how urgency, due
  dates, overdue work and their own completion habits move them, and little in the rest. Potter
  square-root updates (linear.py), unit noise scaled by NOISE.
- The person's cells (person_cells.py, as in oo-v2: project × part of day / kind of day / month
  end, priority × month end, task length), learning what δ leaves unexplained of the outcome,
  with the shrinkage learned from the person's own spread.
- v_done / v_not: the person's mean reward of a done and a not-done answer (shrunk).

Exploration: Thompson sampling at a low scale (`scale`) over δ and the cells together; the
pick distribution is the Monte-Carlo argmax frequencies, ε-mixed, and the choice is drawn from
exactly that distribution, so the logged propensity is the probability the pick had.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from backend.contracts.candidate import Candidate
from backend.contracts.json import json_object
from backend.recommender.features import Context
from backend.recommender.policies.base import Decision, UserState, draw, sampled_decision
from backend.recommender.policies.cell_groups import cell_matrix
from backend.recommender.policies.egreedy import clip_reward
from backend.recommender.policies.linear import argmax_frequencies_by_draw
from backend.recommender.policies.oo import OOPolicy
from backend.recommender.policies.person_cells import PersonCells, cells_of
from backend.recommender.policies.person_model import (
    Values,
    effect_of,
    load_deviation,
    prior_precision,
)
from backend.recommender.policies.vectors import OO_NAMES
from backend.recommender.reward import HELPFUL_REWARD, TRUE_REWARD

EXPERT_DONE: dict[str, float] = {
    "bias": 0.3,
    "is_overdue": 0.08,
    "due_today": 0.1,
    "priority": 0.08,
    "fatigue": -0.12,
    "just_served": -0.12,
    "project_affinity": 0.08,
    "habit_project": 0.04,
    "habit_time": 0.04,
    "habit_late": 0.04,
}
"""The population's weights on vectors.OO before any data, in probability-of-done units."""

SPREAD: dict[str, float] = {
    "*": 0.03,
    "bias": 0.15,
    "is_overdue": 0.12,
    "overdue_days": 0.1,
    "due_today": 0.12,
    "due_soon": 0.08,
    "priority": 0.15,
    "task_age": 0.1,
    "is_recurring": 0.08,
    "habit_project": 0.05,
    "habit_time": 0.05,
    "habit_late": 0.05,
}
"""τ: how far one person's weight may sit from the population's (1 sd, probability units)."""

NOISE = 0.22
"""Variance of a done/not-done outcome around its probability (p(1 − p) near p = 0.35)."""


def expert_done_mean() -> np.ndarray:
    """EXPERT_DONE as a weight vector."""
    return np.array([EXPERT_DONE.get(name, 0.0) for name in OO_NAMES])


class OOv3Policy(OOPolicy):
    """Per-person Bayesian model of done with a per-feature hierarchical prior (see module)."""

    id = "oo-v3"
    version = "1"
    description = (
        "A per-person Bayesian model of the chance of done on oo-v1's features plus the "
        "person's project × time-slot cells, shrunk toward the population feature by feature, "
        "priced by the person's own reward of done and not-done answers."
    )
    scale = 0.15
    """Thompson scale: samples at 0.15 × the posterior's spread. On the standard personas (5 seeds ×
    200 decisions) 0.5 closed 76.3% of the random→oracle gap, 0.15 80.8%, 0 (greedy + ε) 80.6%:
    with a population prior and 200 answers, exploring costs more than it teaches."""
    draws = 48
    epsilon = 0.02
    use_cells = True
    spread = SPREAD

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(seed)
        self._precision = prior_precision(self.names, self.spread, NOISE)
        self._advice = self.names.index("kind_advice")
        self._insight = self.names.index("kind_insight")

    def initial_state(self) -> UserState:
        """No deviation, no cells, the default values."""
        return {
            "delta": load_deviation({}, self._precision).dump(),
            "cells": PersonCells({}).dump(),
            "values": Values(None).dump(),
        }

    def expert_prior(self) -> np.ndarray:
        """The expert prior of the chance of done."""
        return expert_done_mean()

    def pooled_target(self, reward: float) -> float:
        """The pooled regression learns done (1) or not (0), as the person's δ does."""
        return effect_of(reward)

    def _gains(self, X: np.ndarray, values: Values) -> np.ndarray:
        """v_done − v_not per candidate: written kinds earn their flat reward when taken, tasks
        the person's own; read from the kind columns, with no Python step per candidate."""
        advice = X[:, self._advice] > 0.5
        insight = X[:, self._insight] > 0.5
        done = np.where(insight, TRUE_REWARD, np.where(advice, HELPFUL_REWARD, values.done))
        return np.asarray(done - values.not_done)

    def score(
        self, user_state: UserState, context: Context, candidates: Sequence[Candidate]
    ) -> Decision:
        """Sample δ and the cells, price, count the winners, mix, draw."""
        X = self.features(context, candidates)
        delta = load_deviation(user_state.get("delta"), self._precision)
        mean = self.population_mean(context) + delta.mu
        values = Values(user_state.get("values"))
        gain = self._gains(X, values)
        spread = self.scale * np.sqrt(NOISE)
        thetas = mean[:, None] + delta.perturbations(self._rng, self.draws, spread)
        p_mean = X @ mean
        if self.use_cells:
            table = PersonCells(json_object(user_state.get("cells")))
            cells = cell_matrix(candidates, context.local, context.table)
            effect, variance = table.effects(cells.keys)
            z = self._rng.standard_normal((len(cells.keys), self.draws))
            cell_draws = effect[:, None] + self.scale * np.sqrt(variance)[:, None] * z
            sampled = cells.scores_by_draw(X, thetas, cell_draws, self.vector_key)
            p_mean = p_mean + cells.sums(effect)
        else:
            sampled = thetas.T @ X.T
        sampled *= gain
        n = len(candidates)
        frequencies = argmax_frequencies_by_draw(sampled)
        probs = (1.0 - self.epsilon) * frequencies + self.epsilon / n
        choice = draw(self._rng, probs)
        means = values.not_done + gain * p_mean
        return sampled_decision(choice, probs, means, self.names, X[choice], mean)

    def update(
        self, user_state: UserState, context: Context, candidate: Candidate, reward: float
    ) -> UserState:
        """δ learns the outcome beyond the population; the cells what δ leaves; the values."""
        x = self.features(context, [candidate])[0]
        done = effect_of(reward)
        delta = load_deviation(user_state.get("delta"), self._precision)
        residual = done - float(x @ self.population_mean(context))
        delta.update(x, residual)
        table = PersonCells(json_object(user_state.get("cells")))
        if self.use_cells:
            table.learn(cells_of(candidate, context.local), residual - float(x @ delta.mu))
        values = Values(user_state.get("values"))
        values.learn(done, clip_reward(reward))
        return {"delta": delta.dump(), "cells": table.dump(), "values": values.dump()}
