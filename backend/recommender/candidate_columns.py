"""What a pick needs of its candidates that does not move with the clock, as arrays.

A person with 2,000 open tasks gets the same 2,000 candidates on every pick until their source
syncs again (the task cache is decoded once per sync, backend/integrations/service.py keeps the
decoded list while the cached bytes do not change). Reading each candidate's due date, age,
priority, kind and project out of its object is Python work per candidate; here it is done once
per candidate list (`columns_of`, cached by the identity of the list's objects) and a pick reads
the arrays: filtering is a mask over them, and the features (feature_columns.py) are numpy over
whole columns.

The cache key is the tuple of the candidate objects' ids, and the entry keeps the list itself, so
no id in a live key can be reused by another object. A new sync (or a written tip read anew from
the database) brings new objects and so a new entry; the oldest entries are dropped first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from backend.contracts.candidate import Candidate

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

MAX_CACHED_ROWS = 100_000
"""Candidates whose columns are kept (per process, over all lists; the least recently used lists
are dropped first): a few hundred bytes each beside the candidate objects they keep alive."""

MIN_CACHED_LENGTH = 32
"""Shorter lists are not cached: their columns cost less than the key of a long one."""


class CandidateColumns:
    """One candidate list's clock-free attributes, row i = candidates[i] (see module docstring)."""

    def __init__(self, candidates: Sequence[Candidate]) -> None:
        n = len(candidates)
        self.candidates: list[Candidate] = list(candidates)
        self.refs: list[str] = [c.item_ref for c in candidates]
        self.rows_by_ref: dict[str, list[int]] = {}
        for i, ref in enumerate(self.refs):
            self.rows_by_ref.setdefault(ref, []).append(i)
        dues = [c.due_date for c in candidates]
        self.has_due = np.fromiter((d is not None for d in dues), bool, n)
        self.due_day = np.fromiter((d.toordinal() if d is not None else 0 for d in dues), int, n)
        added = [c.added_at for c in candidates]
        self.has_added = np.fromiter((a is not None for a in added), bool, n)
        # Whole microseconds since the epoch: differences are exact, as timedelta's are.
        self.added_us = np.fromiter(
            ((a - EPOCH) // MICROSECOND if a is not None else 0 for a in added), np.int64, n
        )
        self.priority = np.fromiter((c.priority for c in candidates), float, n)
        self.duration_min = np.fromiter((c.duration_min or 0 for c in candidates), float, n)
        self.recurring = np.fromiter((c.is_recurring for c in candidates), float, n)
        kinds = [c.kind for c in candidates]
        self.is_task = np.fromiter((k == "task" for k in kinds), bool, n)
        self.is_advice = np.fromiter((k == "advice" for k in kinds), bool, n)
        self.is_insight = np.fromiter((k == "insight" for k in kinds), bool, n)
        self.is_reminder = np.fromiter((k == "reminder" for k in kinds), bool, n)
        codes: dict[str, int] = {}
        self.project = np.fromiter(
            (codes.setdefault(c.project, len(codes)) for c in candidates), int, n
        )
        self.projects: list[str] = list(codes)
        # Written tips about a task: (row, the task's item_ref); served only while it is open.
        self.about: list[tuple[int, str]] = [
            (i, c.about) for i, c in enumerate(candidates) if c.about is not None
        ]
        self.task_refs: set[str] = {c.item_ref for c in candidates if c.about is None}
        # (row offset, part) of each list this one is made of: lookups by ref go per part.
        self.parts: list[tuple[int, CandidateColumns]] = [(0, self)]

    def __len__(self) -> int:
        return len(self.refs)

    def rows_of(self, refs: set[str] | list[str]) -> np.ndarray:
        """Rows of every candidate whose item_ref is in `refs` (looked up per ref, not per row)."""
        found = [
            i + offset
            for offset, part in self.parts
            for ref in refs
            for i in part.rows_by_ref.get(ref, ())
        ]
        return np.array(found, dtype=int)

    def is_open_task(self, ref: str) -> bool:
        """True when a task (not a written tip about one) of the list has this item_ref."""
        return any(ref in part.task_refs for _, part in self.parts)

    def eligible(self, hidden: set[str]) -> np.ndarray:
        """Mask of the rows that may be picked: not hidden, and a written tip about a task only
        while that task is open and not hidden (as decisions.still_relevant says)."""
        mask = np.ones(len(self), dtype=bool)
        mask[self.rows_of(hidden)] = False
        for i, task in self.about:
            if task in hidden or not self.is_open_task(task):
                mask[i] = False
        return mask


def _combined(parts: list[CandidateColumns]) -> CandidateColumns:
    """One list's columns from its parts' (already built) columns, without per-row Python."""
    out = CandidateColumns.__new__(CandidateColumns)
    out.candidates = []
    out.refs = []
    out.parts = []
    for p in parts:
        out.parts.append((len(out.refs), p))
        out.candidates += p.candidates
        out.refs += p.refs
    out.rows_by_ref = {}  # unused: lookups go through the parts
    out.task_refs = set()
    for name in (
        "has_due",
        "due_day",
        "has_added",
        "added_us",
        "priority",
        "duration_min",
        "recurring",
        "is_task",
        "is_advice",
        "is_insight",
        "is_reminder",
    ):
        setattr(out, name, np.concatenate([getattr(p, name) for p in parts]))
    codes: dict[str, int] = {}
    remapped = []
    for p in parts:
        remap = np.array([codes.setdefault(name, len(codes)) for name in p.projects], dtype=int)
        remapped.append(remap[p.project] if len(p) else p.project)
    out.project = np.concatenate(remapped)
    out.projects = list(codes)
    out.about = [(i + offset, task) for offset, p in out.parts for i, task in p.about]
    return out


class ColumnsCache:
    """Columns per candidate list, by the identity of its objects (see module docstring)."""

    def __init__(self, max_rows: int = MAX_CACHED_ROWS) -> None:
        self._lists: OrderedDict[tuple[int, ...], CandidateColumns] = OrderedDict()
        self._max = max_rows
        self._rows = 0
        self.built = 0
        """Lists whose columns were built (not found): what tests and benchmarks count."""

    def columns_of(self, candidates: Sequence[Candidate]) -> CandidateColumns:
        """The columns of one list: cached while the same objects come back."""
        if len(candidates) < MIN_CACHED_LENGTH:
            self.built += 1
            return CandidateColumns(candidates)
        key = tuple(map(id, candidates))
        found = self._lists.get(key)
        if found is not None:
            self._lists.move_to_end(key)
            return found
        self.built += 1
        found = CandidateColumns(candidates)  # keeps the objects: their ids stay theirs
        if len(found) > self._max:
            return found
        self._lists[key] = found
        self._rows += len(found)
        while self._rows > self._max:
            _, dropped = self._lists.popitem(last=False)
            self._rows -= len(dropped)
        return found

    def combined(self, batches: Sequence[Sequence[Candidate]]) -> CandidateColumns:
        """The columns of the batches one after another (each batch cached on its own)."""
        parts = [self.columns_of(b) for b in batches if b]
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return CandidateColumns([])
        return _combined(parts)

    def clear(self) -> None:
        """Forget every list (tests)."""
        self._lists.clear()
        self._rows = 0


COLUMNS = ColumnsCache()
"""The process's cache (a web process serves picks for many people)."""
