"""oo-v2: oo-v1's hierarchical linear model plus the person's own project × time-slot cells.

Score of a candidate = xᵀ(θ_pop + δ_user) (oo-v1's model and updates, unchanged) + the sum of
its cells' effects in this person's history (person_cells.py: project × part of day, × kind
of day, × month end; priority × month end; task length), each shrunk toward the population by
a shrinkage learned from the person's own spread. Thompson sampling draws δ and the cell
effects together; the pick distribution is the Monte-Carlo argmax frequencies, ε-mixed, and the
choice is drawn from exactly that distribution, so the logged propensity is exact.
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
from backend.recommender.policies.vectors import oo


class OOv2Policy(OOPolicy):
    """oo-v1 + the person's shrunk project × slot cells (see module docstring)."""

    id = "oo-v2"
    version = "1"
    description = (
        "oo-v1 plus the person's own reactions per project × time slot, month end and task "
        "length, shrunk toward the population with a shrinkage learned per person."
    )
    draws = 48
    epsilon = 0.02

    def initial_state(self) -> UserState:
        """oo-v1's state and an empty cell table."""
        return {**super().initial_state(), "cells": PersonCells({}).dump()}

    def score(
        self, user_state: UserState, context: Context, candidates: Sequence[Candidate]
    ) -> Decision:
        """Sample δ and cell effects, count the winners, mix, draw."""
        X = self.features(context, candidates)
        delta = self._delta(user_state)
        mean = self.population_mean(context) + delta.mu
        table = PersonCells(json_object(user_state.get("cells")))
        cells = cell_matrix(candidates, context.local, context.table)
        keys = cells.keys
        effect, variance = table.effects(keys)
        z = self._rng.standard_normal((len(keys), self.draws))
        cell_draws = effect[:, None] + self.scale * np.sqrt(variance)[:, None] * z
        thetas = mean[:, None] + delta.perturbations(self._rng, self.draws, self.scale)
        sampled = cells.scores_by_draw(X, thetas, cell_draws)  # draws × candidates
        n = len(candidates)
        probs = (1.0 - self.epsilon) * argmax_frequencies_by_draw(sampled) + self.epsilon / n
        choice = draw(self._rng, probs)
        means = X @ mean + cells.sums(effect)
        return sampled_decision(choice, probs, means, self.names, X[choice], mean)

    def update(
        self, user_state: UserState, context: Context, candidate: Candidate, reward: float
    ) -> UserState:
        """oo-v1's Potter step on δ, then the cells learn what δ leaves unexplained."""
        x = oo([context.features_for(candidate)])[0]
        delta = self._delta(user_state)
        target = clip_reward(reward)
        linear = float(x @ self.population_mean(context))
        delta.update(x, target - linear)
        table = PersonCells(json_object(user_state.get("cells")))
        table.learn(cells_of(candidate, context.local), target - linear - float(x @ delta.mu))
        return {"delta": delta.dump(), "cells": table.dump()}
