"""The Policy protocol, its Decision, and the helpers every policy shares.

A policy ranks candidates; it never writes them. `score` picks one and reports the propensity of
that pick (the probability the policy had of choosing it), which off-policy evaluation needs —
so every policy is randomised: ε-mixing over a deterministic rule, or Thompson sampling with an
exactly computed pick distribution. `update` folds one observed reward into the per-user state.
State is a JSON-serialisable dict so it lives in the database and any web replica can serve
any user.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from backend.contracts.candidate import Candidate
from backend.recommender.features import Context
from backend.recommender.policies.vectors import seed5, seed7, seed_table

UserState = dict[str, Any]

TIE_TOLERANCE = 1e-12
"""Scores this close count as a tie; the greedy share is split among tied candidates."""


class Contribution(NamedTuple):
    """One feature's part in the chosen candidate's score: scaled value × learned weight.

    A named tuple, not a dataclass: every shadow builds one per feature on every request.
    """

    name: str
    value: float
    weight: float

    @property
    def amount(self) -> float:
        """value × weight."""
        return self.value * self.weight


@dataclass(frozen=True)
class Decision:
    """The pick: index into the candidates, its propensity, and every candidate's score.

    `probabilities` is the full pick distribution (sums to 1, every entry > 0 for randomised
    policies); `propensity == probabilities[choice]`. `explored` says the pick was not the
    policy's best guess. `contributions` explain the chosen candidate's score.
    """

    choice: int
    propensity: float
    scores: list[float]
    explored: bool = False
    probabilities: list[float] = field(default_factory=list)
    contributions: list[Contribution] = field(default_factory=list)


class Policy(Protocol):
    """A ranking policy, registered by id and version."""

    id: str
    version: str
    description: str

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


@runtime_checkable
class PooledPolicy(Protocol):
    """A policy that also learns a population model from every user's rewards (cold start)."""

    id: str
    version: str

    def pooled_initial(self) -> UserState:
        """The population state before any reward."""
        ...

    def pooled_update(
        self, pooled: UserState, rows: Sequence[tuple[Mapping[str, float], float]]
    ) -> UserState:
        """Fold (raw features of the served candidate, reward) pairs into the population state."""
        ...


def seed_matrix(context: Context, candidates: Sequence[Candidate], weekday: bool) -> np.ndarray:
    """The seed policies' matrix (SEED7 with the weekday, else SEED5): from the context's
    feature table when it covers the candidates, else from their mappings."""
    table = context.table
    if table is not None:
        index = table.rows_of(candidates)
        if index is not None:
            return seed_table(table, weekday)[index]
    rows = raw_rows(context, candidates)
    return seed7(rows) if weekday else seed5(rows)


def raw_rows(context: Context, candidates: Sequence[Candidate]) -> list[Mapping[str, float]]:
    """Each candidate's raw features (see features.py), reusing any the context carries."""
    if not candidates:
        raise ValueError("no candidates to score")
    return [context.features_for(c) for c in candidates]


def sampled_decision(
    choice: int,
    probs: np.ndarray,
    means: np.ndarray,
    names: Sequence[str],
    x: np.ndarray,
    weights: np.ndarray,
) -> Decision:
    """The Decision of a sampling policy: its pick, the pick's probability, the mean scores
    (explored = the pick is not their argmax) and the pick's per-feature contributions."""
    return Decision(
        choice=choice,
        propensity=float(probs[choice]),
        scores=means.tolist(),
        explored=bool(means[choice] < means.max() - 1e-12),
        probabilities=probs.tolist(),
        contributions=contributions(names, x, weights),
    )


def greedy_probabilities(values: np.ndarray, epsilon: float) -> np.ndarray:
    """ε-mixing over argmax: (1 − ε) split among the best (ties share), ε spread uniformly."""
    n = values.shape[0]
    best = values >= values.max() - TIE_TOLERANCE
    probs = np.full(n, epsilon / n)
    probs[best] += (1.0 - epsilon) / int(best.sum())
    return probs


def draw(rng: np.random.Generator, probs: np.ndarray) -> int:
    """One index from a distribution: inverse CDF (Generator.choice costs ~10× more)."""
    cdf = np.cumsum(probs)
    index = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
    return min(index, int(probs.shape[0]) - 1)


def uniform_index(rng: np.random.Generator, indices: np.ndarray) -> int:
    """One of `indices`, uniformly."""
    return int(indices[int(rng.integers(indices.shape[0]))])


def contributions(names: Sequence[str], x: np.ndarray, weights: np.ndarray) -> list[Contribution]:
    """Per-feature contributions of one scaled vector under one weight vector."""
    return list(map(Contribution, names, x.tolist(), weights.tolist()))
