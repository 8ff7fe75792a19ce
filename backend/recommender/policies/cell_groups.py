"""oo-v2's cells for a whole candidate list without a Python step per candidate.

`person_cells.cells_of` names a candidate's cells from a few of its attributes and the moment.
Candidates alike in those attributes fall in the same cells, and a person's open items share
few projects, priorities and lengths: so the cells are named once per *group* of alike
candidates, the cell indicator is a groups × cells matrix, and each candidate reads its group's
row (`sums`). The grouping depends on the candidates only, so it is kept on the context's
feature table and costs nothing per decision while the candidate list does not change.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import datetime
from operator import attrgetter
from typing import NamedTuple

import numpy as np

from backend.contracts.candidate import Candidate
from backend.recommender.feature_table import FeatureTable
from backend.recommender.policies.person_cells import cells_of

GROUP_BY = attrgetter("project", "priority", "duration_min")
"""What `cells_of` reads of a candidate (besides the moment). A test checks that grouping by it
names the same cells as calling `cells_of` on every candidate; extend it when `cells_of` reads
another attribute."""


class Groups(NamedTuple):
    """Each candidate's group (`codes`), and one candidate standing for each group."""

    codes: np.ndarray
    representatives: list[Candidate]


class CellMatrix(NamedTuple):
    """The sorted cell keys of a decision, which of them each group is in, and the groups."""

    keys: list[str]
    indicator: np.ndarray
    codes: np.ndarray

    def sums(self, values: np.ndarray) -> np.ndarray:
        """Per candidate, the sum of `values` (a vector, one entry per key) over its cells."""
        return np.asarray((self.indicator @ values)[self.codes])

    def sums_by_draw(self, draws: np.ndarray) -> np.ndarray:
        """Per draw (a column of `draws`, one row per key) and candidate: the sum over its
        cells, as a draws × candidates matrix (the layout of linear.argmax_frequencies_by_draw)."""
        return np.take(draws.T @ self.indicator.T, self.codes, axis=1)


def group(candidates: Sequence[Candidate]) -> Groups:
    """Candidates grouped by GROUP_BY, in C-level loops (dict building and lookups via map)."""
    attrs: list[Hashable] = list(map(GROUP_BY, candidates))
    n = len(attrs)
    # First occurrence of each group: later pairs overwrite earlier ones, so feed them backwards.
    first = dict(zip(reversed(attrs), range(n - 1, -1, -1), strict=True))
    code = {a: g for g, a in enumerate(first)}
    codes = np.fromiter(map(code.__getitem__, attrs), np.intp, n)
    return Groups(codes, [candidates[i] for i in first.values()])


def _table_groups(table: FeatureTable) -> Groups:
    return group(table.candidates)


def cell_matrix(
    candidates: Sequence[Candidate], local: datetime, table: FeatureTable | None
) -> CellMatrix:
    """The cells of every candidate at a local moment, named once per group."""
    if table is not None and isinstance(table.rows_of(candidates), slice):
        groups = table.derived("oo-v2 cell groups", _table_groups)
    else:
        groups = group(candidates)
    per_group = [cells_of(c, local) for c in groups.representatives]
    keys = sorted({k for ks in per_group for k in ks})
    index = {k: i for i, k in enumerate(keys)}
    indicator = np.zeros((len(per_group), len(keys)))
    for row, ks in enumerate(per_group):
        indicator[row, [index[k] for k in ks]] = 1.0
    return CellMatrix(keys, indicator, groups.codes)
