"""The raw features of one candidate list as one matrix, shared by every policy that scores it.

Raw features reach policies as one mapping per candidate (features.py), which is what is logged
and replayed. Turning n mappings into a matrix costs Python work per candidate, and before this
table every policy of a request paid it on its own. A `FeatureTable` does it once: rows are the
candidates in order, columns the raw feature keys. Policies take the columns they read
(`columns`, a defaults-filling gather) and keep what they derive from them on the table
(`derived`), so the active policy and its shadows share one scaled matrix, and a caller that keeps
the table while its candidates do not change (a source sync, the simulator's set, a benchmark)
pays the conversion once, not per decision.

A table belongs to the exact candidate sequence it was built for: `rows_of` answers "every row,
in order" at once for that same sequence, maps other candidates by item_ref, and says None when
one is missing, so a policy falls back to the mappings rather than scoring a wrong row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import chain
from operator import attrgetter, itemgetter
from typing import Any, TypeVar

import numpy as np

from backend.contracts.candidate import Candidate

T = TypeVar("T")

_REF = attrgetter("item_ref")


class FeatureTable:
    """Raw features of `candidates` (rows, in order) by key (columns); see module docstring."""

    def __init__(
        self,
        candidates: Sequence[Candidate],
        keys: Sequence[str],
        values: np.ndarray,
        missing: np.ndarray | None = None,
    ) -> None:
        n = len(candidates)
        if values.shape != (n, len(keys)):
            raise ValueError(f"values of shape {values.shape} for {n} rows × {len(keys)} keys")
        self.candidates = candidates
        self.refs: list[str] = list(map(_REF, candidates))
        self.keys = tuple(keys)
        self.values = values
        self.values.setflags(write=False)
        # Cells whose key the candidate's mapping lacks (None: every mapping has every key).
        self.missing = missing
        self._column = {k: i for i, k in enumerate(self.keys)}
        self._rows: dict[str, int] | None = None  # by item_ref, built when first asked
        self._derived: dict[str, Any] = {}

    @classmethod
    def build(
        cls, candidates: Sequence[Candidate], raw: Mapping[str, Mapping[str, float]]
    ) -> FeatureTable:
        """From each candidate's raw mapping (by item_ref); keys are the union of all mappings.

        A key absent from some mapping is marked missing there, so `columns` fills that cell
        with the reader's default, exactly as reading the mapping with `.get(key, default)`.
        """
        rows = [raw[ref] for ref in map(_REF, candidates)]
        n = len(rows)
        keys = sorted(rows[0]) if rows else []
        width = len(keys)
        # Every mapping has the first one's keys and no other (as the service builds them):
        # same sizes, and the first mapping's keys found in each. One C call per row.
        alike = width > 0 and set(map(len, rows)) == {width}
        try:
            if not alike:
                raise KeyError("mappings with different keys")
            flat = chain.from_iterable(map(itemgetter(*keys), rows))
            values = np.fromiter(flat, dtype=float, count=n * width).reshape(n, width)
        except (KeyError, TypeError, ValueError):
            keys = sorted(set(chain.from_iterable(rows)))
            width = len(keys)
            missing = np.array([[k not in r for k in keys] for r in rows], dtype=bool)
            filled = [[r.get(k, 0.0) for k in keys] for r in rows]  # None → NaN, as before
            values = np.array(filled, dtype=float).reshape(n, width)
            return cls(candidates, keys, values, missing.reshape(n, width))
        return cls(candidates, keys, values)

    def __len__(self) -> int:
        return len(self.refs)

    def rows_of(self, candidates: Sequence[Candidate]) -> slice | np.ndarray | None:
        """Row indices of `candidates`: every row for the table's own sequence, None if unknown."""
        if candidates is self.candidates:
            return slice(None)
        n = len(self.refs)
        rows = self._row_index()
        index = np.fromiter(map(rows.get, map(_REF, candidates), [n] * len(candidates)), int)
        if index.size and int(index.max()) >= n:
            return None
        return index

    def _row_index(self) -> dict[str, int]:
        if self._rows is None:
            self._rows = dict(zip(self.refs, range(len(self.refs)), strict=True))
        return self._rows

    def row_of(self, ref: str) -> int | None:
        """The row of an item_ref (the last one, if it repeats), None if not in the table."""
        return self._row_index().get(ref)

    def columns(self, wanted: Sequence[tuple[str, float]]) -> np.ndarray:
        """A fresh n × len(wanted) matrix of the wanted keys, the default where a key is absent."""
        out = np.empty((len(self.refs), len(wanted)))
        missing = self.missing
        for j, (key, default) in enumerate(wanted):
            col = self._column.get(key)
            if col is None:
                out[:, j] = default
                continue
            out[:, j] = self.values[:, col]
            if missing is not None and missing[:, col].any():
                out[missing[:, col], j] = default
        return out

    def derived(self, name: str, build: Callable[[FeatureTable], T]) -> T:
        """`build(self)`, computed once per table and kept under `name` (treat it as read-only)."""
        if name not in self._derived:
            value = build(self)
            if isinstance(value, np.ndarray):
                value.setflags(write=False)  # shared by every policy reading this table
            self._derived[name] = value
        return self._derived[name]  # type: ignore[no-any-return]
