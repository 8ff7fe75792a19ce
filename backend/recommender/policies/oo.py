"""oo-v1: our own policy — hierarchical linear Thompson sampling on rich features (vectors.OO).

Model: reward ≈ xᵀ(θ_pop + δ_user) + noise.

- θ_pop, the population mean, is a ridge regression pooled over every user's served rewards
  (`pooled_update`, run by a worker job from the decision log, never on the hot path). Before any
  data it is an expert prior (overdue, due today and urgent help; nudging the same item again
  hurts) weighing as much as `POP_LAMBDA` observations, so day one is already sensible.
- δ_user, the person's deviation, has prior N(0, I/`USER_LAMBDA`) (tight: see USER_LAMBDA for
  the simulator's evidence) and is learned from the person's residuals r − xᵀθ_pop with Potter
  square-root updates (linear.py). A new user
  therefore starts exactly at the population model and moves away as their own rewards arrive;
  the population keeps improving underneath them.
- Exploration: Thompson sampling over δ with exact propensities (Monte-Carlo argmax frequencies,
  ε-mixed; see lints.py). Uncertainty shrinks per user and per direction, so exploration fades
  where the person is well known and stays where they are not.
- Repeated nudges wear off: `fatigue` and `just_served` (from the served/ignored history the
  service provides) let the model learn that pushing the same item again earns less.

The pooled rows include the person's own rewards too; with many users that double count is
negligible, and it only ever pulls towards what this person did.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from backend.contracts.candidate import Candidate
from backend.contracts.json import json_object
from backend.recommender.feature_table import FeatureTable
from backend.recommender.features import Context
from backend.recommender.policies.arrays import is_packed, pack, unpack
from backend.recommender.policies.base import Decision, UserState, raw_rows, sampled_decision
from backend.recommender.policies.egreedy import clip_reward
from backend.recommender.policies.feature_rows import FeatureRows
from backend.recommender.policies.lints import load_posterior, thompson_pick
from backend.recommender.policies.vectors import OO_NAMES, oo, oo_table

EXPERT_PRIOR: dict[str, float] = {
    "is_overdue": 0.2,
    "overdue_days": 0.1,
    "due_today": 0.25,
    "due_soon": 0.05,
    "priority": 0.2,
    "task_now": 0.1,
    "project_time": 0.1,
    "fatigue": -0.3,
    "just_served": -0.3,
    "project_affinity": 0.2,
    "habit_project": 0.1,
    "habit_time": 0.1,
    "habit_late": 0.1,
}
"""The population mean before any reward (weights on vectors.OO components)."""

POP_LAMBDA = 10.0
"""The expert prior counts as this many observations in the pooled ridge regression."""

USER_LAMBDA = 64.0
"""Prior precision of a person's deviation: each weight starts ±0.125 (1 sd) around the pool.

Version 2 (was 4.0, ±0.5): on the simulator (backend/simulation, 10 personas × 5 seeds × 200
decisions) a loose prior made Thompson sampling explore personal deviations that a few hundred
noisy rewards cannot pin down, and it served worse than leaning on the pooled model: 70.7% of
the oracle's mean reward at 4.0, 75.5% at 16, 77.2% at 64, 78.9% at 256 (≈ no personalisation).
64 keeps most of that gain while a person's own rewards still pull away from the population:
along a direction they have seen n times, their deviation carries n / (n + 64) of the weight."""


def expert_mean() -> np.ndarray:
    """EXPERT_PRIOR as a weight vector."""
    return np.array([EXPERT_PRIOR.get(name, 0.0) for name in OO_NAMES])


class OOPolicy:
    """Hierarchical linear Thompson sampling (see module docstring)."""

    id = "oo-v1"
    version = "4"
    description = (
        "Our own: Thompson sampling on 19 features (kind, due, priority, age, time-of-day fit, "
        "fatigue, project affinity) around a population model pooled from all users."
    )
    scale = 0.5
    draws = 32
    epsilon = 0.02
    names: tuple[str, ...] = OO_NAMES

    def __init__(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)
        self._rows = FeatureRows(len(self.names), self.vectors)

    vector_key = "oo"
    """Name of the scaled matrix on a feature table (policies with the same vectors share it)."""

    def vectors(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        """Scaled vectors (`names`) of raw feature mappings."""
        return oo(rows)

    def table_vectors(self, table: FeatureTable) -> np.ndarray:
        """Scaled vectors (`names`) of a feature table's rows."""
        return oo_table(table)

    def features(self, context: Context, candidates: Sequence[Candidate]) -> np.ndarray:
        """The scaled matrix of `candidates` (read-only), converting only rows not seen before.

        From the context's feature table when it covers the candidates (scaled once per table,
        shared with every other policy scoring it); else from the raw mappings, through the
        row store.
        """
        table = context.table
        if table is not None:
            index = table.rows_of(candidates)
            if index is not None:
                return table.derived(self.vector_key, self.table_vectors)[index]
        refs = [c.item_ref for c in candidates]
        known = context.features
        rows: list[Mapping[str, float] | None] = list(map(known.get, refs)) if known else []
        if not rows or None in rows:  # some features not given: compute them (features.py)
            return self._rows.matrix(refs, raw_rows(context, candidates))
        return self._rows.matrix(refs, rows)  # type: ignore[arg-type]  # no None (checked)

    def initial_state(self) -> UserState:
        """No deviation from the population yet."""
        return {"delta": load_posterior({}, len(self.names), USER_LAMBDA).dump()}

    def population_mean(self, context: Context) -> np.ndarray:
        """θ_pop from the context's priors; the expert prior when there is none (or it is bad)."""
        pooled = context.priors.get(self.id)
        if pooled and is_packed(pooled.get("mu")):
            try:
                mu = unpack(pooled["mu"])
            except ValueError:
                return self.expert_prior()
            if mu.shape == (len(self.names),):
                return mu
        return self.expert_prior()

    def expert_prior(self) -> np.ndarray:
        """The weights before anyone's data: the expert prior of the features."""
        return expert_mean()

    def pooled_target(self, reward: float) -> float:
        """What the pooled regression learns of one reward (the reward, clipped)."""
        return clip_reward(reward)

    def _delta(self, user_state: UserState) -> Any:
        raw = user_state.get("delta")
        return load_posterior(json_object(raw), len(self.names), USER_LAMBDA)

    def score(
        self, user_state: UserState, context: Context, candidates: Sequence[Candidate]
    ) -> Decision:
        """Sample around θ_pop + μ_δ, count the winners, mix, draw."""
        X = self.features(context, candidates)
        delta = self._delta(user_state)
        mean = self.population_mean(context) + delta.mu
        choice, probs, means = thompson_pick(
            self._rng, X, mean, delta, self.scale, self.draws, self.epsilon
        )
        return sampled_decision(choice, probs, means, self.names, X[choice], mean)

    def update(
        self, user_state: UserState, context: Context, candidate: Candidate, reward: float
    ) -> UserState:
        """One Potter step on the residual against the population mean."""
        x = self.features(context, [candidate])[0]
        delta = self._delta(user_state)
        delta.update(x, clip_reward(reward) - float(x @ self.population_mean(context)))
        return {"delta": delta.dump()}

    def pooled_initial(self) -> UserState:
        """The expert prior as a ridge regression worth POP_LAMBDA observations."""
        d = len(self.names)
        A = np.eye(d) * POP_LAMBDA
        mu = self.expert_prior()
        return {"A": pack(A), "b": pack(A @ mu), "mu": pack(mu), "n": 0}

    def pooled_update(
        self, pooled: UserState, rows: Sequence[tuple[Mapping[str, float], float]]
    ) -> UserState:
        """Add a batch of (raw features, reward) and re-solve (once per batch, in a job)."""
        if not rows:
            return pooled
        try:
            A, b, n = unpack(pooled["A"]), unpack(pooled["b"]), int(pooled["n"])
        except (KeyError, TypeError, ValueError):
            return self.pooled_update(self.pooled_initial(), rows)
        X = self.vectors([features for features, _ in rows])
        y = np.array([self.pooled_target(r) for _, r in rows])
        A = A + X.T @ X
        b = b + X.T @ y
        mu = np.linalg.solve(A, b)
        return {"A": pack(A), "b": pack(b), "mu": pack(mu), "n": n + len(rows)}
