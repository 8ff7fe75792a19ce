"""Scaled feature rows kept between calls, so a decision only converts candidates it has not seen.

Turning a candidate's raw features (a mapping of ~20 floats) into its scaled vector is the one
part of scoring that costs Python work per candidate; the rest is a handful of matrix products.
A `FeatureRows` keeps each converted row under the candidate's `item_ref`, together with the raw
mapping it came from, and reuses it while the context hands over that same mapping again: the
mapping object is the version. Raw features are values once built (they are logged as they are
and never edited), so a new version of a candidate — new due date, new history, a later hour —
always arrives as a new mapping and is converted again. Within one request the active policy, the
shadows and the update after a reaction all read the same mappings and share the work.

The kept rows live in one preallocated matrix and are gathered by index (one fancy-indexing call
per decision instead of stacking n small arrays); when the matrix is full it starts over, so
memory stays bounded at `capacity` rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import repeat

import numpy as np

Rows = Sequence[Mapping[str, float]]

DEFAULT_CAPACITY = 65_536
"""Rows kept per policy instance (≈ 9 MB at 18 features): far above one person's open items."""


class FeatureRows:
    """item_ref → slot in a row store, checked against the raw mapping's identity."""

    def __init__(
        self, width: int, build: Callable[[Rows], np.ndarray], capacity: int = DEFAULT_CAPACITY
    ) -> None:
        self._build = build
        self._store = np.empty((capacity, width))
        # Per slot: id() of the raw mapping its row came from, and the mapping itself — held so
        # that no other object can take that id while the slot is in use.
        self._ids = np.zeros(capacity, dtype=np.uint64)
        self._held: list[Mapping[str, float] | None] = [None] * capacity
        self._slot_of: dict[str, int] = {}
        self._used = 0

    def __len__(self) -> int:
        return len(self._slot_of)

    def matrix(self, refs: Sequence[str], rows: Rows) -> np.ndarray:
        """The scaled n × width matrix of `rows` (whose item_refs are `refs`), in order.

        Per candidate only C-level loops run (dict lookups and id() through map); Python code
        runs only for rows converted afresh.
        """
        n = len(rows)
        capacity = self._store.shape[0]
        if n > capacity:  # more candidates than the store holds: just build them
            return self._build(rows)
        slots = np.fromiter(map(self._slot_of.get, refs, repeat(capacity)), np.intp, n)
        ids = np.fromiter(map(id, rows), np.uint64, n)
        known = slots < capacity
        fresh = ~known
        fresh[known] = self._ids[slots[known]] != ids[known]
        stale = np.flatnonzero(fresh).tolist()
        if stale:
            if self._used + len(stale) > capacity:
                self._slot_of.clear()  # start over: every row of this call is rebuilt below
                self._held = [None] * capacity
                self._used = 0
                stale = list(range(n))
            start, end = self._used, self._used + len(stale)
            stale_rows = [rows[i] for i in stale] if len(stale) < n else list(rows)
            self._store[start:end] = self._build(stale_rows)
            self._held[start:end] = stale_rows
            self._slot_of.update(zip([refs[i] for i in stale], range(start, end), strict=True))
            self._ids[start:end] = ids[stale]
            slots[stale] = np.arange(start, end)
            self._used = end
        return self._store[slots]
