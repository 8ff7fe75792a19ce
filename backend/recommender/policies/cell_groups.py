"""oo-v2's cells for a whole candidate list without a Python step per candidate.

`person_cells.cells_of` names a candidate's cells from a few of its attributes and the moment.
Candidates alike in those attributes fall in the same cells, and a person's open items share
few projects, priorities and lengths: so the cells are named once per *group* of alike
candidates, the cell indicator is a groups × cells matrix, and each candidate reads its group's
row (`sums`; for the sampled scores, one extra column per group in the matrix product,
`scores_by_draw`). The grouping depends on the candidates only, so it is kept on the context's
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


FOLD_GROUPS = 24
"""Up to this many groups, the cells join the sampled scores' matrix product as one column per
group; beyond, their sums are gathered per candidate and added (see `scores_by_draw`)."""


class CellMatrix(NamedTuple):
    """The sorted cell keys of a decision, which of them each group is in, and the groups.

    `table` is the feature table the groups were kept on (None when they were not), so a matrix
    derived from both lives there too.
    """

    keys: list[str]
    indicator: np.ndarray
    codes: np.ndarray
    table: FeatureTable | None = None

    def scores_by_draw(
        self, X: np.ndarray, thetas: np.ndarray, cell_draws: np.ndarray, vectors: str = "oo"
    ) -> np.ndarray:
        """Per draw and candidate, x·θ plus the sum of the candidate's cell draws (draws × n).

        With few groups, X gains one indicator column per group and the cells' draws one row
        per group, so a single product gives the sum without a draws × n temporary; the widened
        X is kept on the feature table while its candidates do not change, under the name of
        the scaled matrix it widens (`vectors`: policies on the same vectors share it).
        """
        per_group = self.indicator @ cell_draws  # groups × draws
        groups = per_group.shape[0]
        if groups > FOLD_GROUPS:
            sampled = thetas.T @ X.T
            sampled += np.take(per_group.T, self.codes, axis=1)
            return np.asarray(sampled)
        if self.table is not None:
            widened = self.table.derived(f"{vectors} X+{groups} groups", lambda _: self._widen(X))
        else:
            widened = self._widen(X)
        return np.asarray(np.vstack([thetas, per_group]).T @ widened.T)

    def _widen(self, X: np.ndarray) -> np.ndarray:
        n, d = X.shape
        out = np.zeros((n, d + self.indicator.shape[0]))
        out[:, :d] = X
        out[np.arange(n), d + self.codes] = 1.0
        return out

    def sums(self, values: np.ndarray) -> np.ndarray:
        """Per candidate, the sum of `values` (a vector, one entry per key) over its cells."""
        return np.asarray((self.indicator @ values)[self.codes])


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
    kept = table is not None and isinstance(table.rows_of(candidates), slice)
    if kept:
        assert table is not None
        groups = table.derived("oo-v2 cell groups", _table_groups)
    else:
        groups = group(candidates)
    per_group = [cells_of(c, local) for c in groups.representatives]
    keys = sorted({k for ks in per_group for k in ks})
    index = {k: i for i, k in enumerate(keys)}
    indicator = np.zeros((len(per_group), len(keys)))
    for row, ks in enumerate(per_group):
        indicator[row, [index[k] for k in ks]] = 1.0
    return CellMatrix(keys, indicator, groups.codes, table if kept else None)
