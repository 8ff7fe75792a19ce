"""oo-v4: oo-v3's per-person model of "done", with the task's length among its features.

Some people only do what fits in the gap they have. A source may say how long a task takes
(`Candidate.duration_min`: Todoist's optional duration; every simulated task has one), but
oo-v1's features (vectors.OO) leave it out, so oo-v3 could learn it only through its three coarse
task-length cells, shrunk toward nothing. oo-v4 scores vectors.OO4_NAMES: OO plus
`task_length` (log2 of the minutes over 15, so 2 minutes is −1 and two hours +1), with a wide
personal spread (τ 0.12, like due dates and overdue work), since people differ in it in both
directions and the population cannot say who is who. Everything else is oo-v3's (oo3.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from backend.recommender.feature_table import FeatureTable
from backend.recommender.policies.oo3 import EXPERT_DONE, SPREAD, OOv3Policy
from backend.recommender.policies.vectors import OO4_NAMES, oo4, oo4_table

SPREAD_V4: dict[str, float] = {**SPREAD, "task_length": 0.12}
"""τ per feature (1 sd, probability units): oo-v3's, and the task's length."""


def expert_done_v4() -> np.ndarray:
    """The expert prior of the chance of done over OO4_NAMES (length: no sign everyone shares)."""
    return np.array([EXPERT_DONE.get(name, 0.0) for name in OO4_NAMES])


class OOv4Policy(OOv3Policy):
    """oo-v3 on OO4_NAMES (see module docstring)."""

    id = "oo-v4"
    version = "1"
    description = (
        "oo-v3's per-person Bayesian model of the chance of done, with the task's estimated "
        "length among its features (20: oo-v1's and task_length)."
    )
    names: tuple[str, ...] = OO4_NAMES
    spread = SPREAD_V4
    vector_key = "oo4"

    def vectors(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        """OO4 vectors of raw feature mappings."""
        return oo4(rows)

    def table_vectors(self, table: FeatureTable) -> np.ndarray:
        """OO4 vectors of a feature table's rows."""
        return oo4_table(table)

    def expert_prior(self) -> np.ndarray:
        """The expert prior of the chance of done over OO4_NAMES."""
        return expert_done_v4()
