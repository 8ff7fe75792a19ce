"""oo-v5: oo-v4's per-person model of "done", starting from the person's own choice model.

Before their first tip, a person's task app already shows what they finish first among what
is open: history_fit.py fits their conditional logit on those completions (priority, due
dates, age, recurrence, each project at each time of the day, week and month), and the raw
feature `habit_choice` is that model's utility of finishing a candidate now. oo-v5 scores
vectors.OO5_NAMES, OO4 plus habit_choice / 2, so from the first decision a person is ranked by
their own history rather than by the population's weights; their answers then correct it like
every other weight (δ, with a personal spread on this one too, since how well a person's history
predicts their answers differs from person to person).

How much the history says is in the feature itself: the fit's prior keeps a short history's
utilities near 0 (habit_choice ≈ 0 is "no opinion"), a long one's at the person's own. Without
a history oo-v5 is oo-v4. Everything else is oo-v3's (oo3.py): Thompson sampling at a low scale,
exact propensities (Monte-Carlo argmax frequencies, ε-mixed, the pick drawn from exactly that
distribution), per-person state {"delta", "cells", "values"} in the policy state table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from backend.recommender.feature_table import FeatureTable
from backend.recommender.policies.oo3 import EXPERT_DONE
from backend.recommender.policies.oo4 import SPREAD_V4, OOv4Policy
from backend.recommender.policies.vectors import OO5_NAMES, oo5, oo5_table

EXPERT_CHOICE = 0.4
"""The population's weight on habit_choice / 2 before any data (probability-of-done units): a
logit step of 1 moves a probability near 0.3–0.5 by about 0.2, so one unit of the scaled
feature (2 logit units) is worth ≈ 0.4. The pooled regression starts from it (worth POP_LAMBDA
answers) and moves it with everyone's answers. On the standard personas (5 seeds × 200
decisions, a variant id) 0.2 with τ 0.1 closed 79.2 % of the gap, 0.4 with τ 0.15 83.9 %."""

SPREAD_V5: dict[str, float] = {**SPREAD_V4, "habit_choice": 0.15}
"""τ per feature (1 sd, probability units): oo-v4's, and the history's utility — wide, since how
well a person's history predicts their answers differs from person to person."""


def expert_done_v5() -> np.ndarray:
    """The expert prior of the chance of done over OO5_NAMES."""
    prior = {**EXPERT_DONE, "habit_choice": EXPERT_CHOICE}
    return np.array([prior.get(name, 0.0) for name in OO5_NAMES])


class OOv5Policy(OOv4Policy):
    """oo-v4 on OO5_NAMES (see module docstring)."""

    id = "oo-v5"
    version = "1"
    description = (
        "oo-v4's per-person Bayesian model of the chance of done, with the person's own choice "
        "model, fitted on their task app's history, among its features (21: oo-v4's and "
        "habit_choice)."
    )
    names: tuple[str, ...] = OO5_NAMES
    spread = SPREAD_V5
    vector_key = "oo5"

    def vectors(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        """OO5 vectors of raw feature mappings."""
        return oo5(rows)

    def table_vectors(self, table: FeatureTable) -> np.ndarray:
        """OO5 vectors of a feature table's rows."""
        return oo5_table(table)

    def expert_prior(self) -> np.ndarray:
        """The expert prior of the chance of done over OO5_NAMES."""
        return expert_done_v5()
