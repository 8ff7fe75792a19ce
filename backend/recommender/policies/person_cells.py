"""A person's own reactions per project × time slot, shrunk toward the population (oo-v2).

Each candidate falls in a handful of *cells* of the person's history: its project; its project
in this part of the day, on this kind of day, in a month's last days; its estimated length; its
priority in or out of a month's end. A cell's effect is the person's mean residual there (what
they did beyond the population model) shrunk toward 0 — toward the population — as
s / (n + k): k = σ² / τ² is the shrinkage, *learned per person* by the method of moments
(σ², the person's residual noise; τ², the spread of their cell means beyond what noise alone
explains). A person whose cells really differ gets a small k and is learned fast; a person whose
differences are noise keeps k large and stays near the population.

State is a JSON dict of per-cell [n, Σ residual] and residual moments, stored with the
policy's per-user state in the database like every other policy's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from backend.contracts.candidate import Candidate

PRIOR_K = 12.0
"""Shrinkage before the person has enough cells to estimate it (worth 12 reactions)."""

K_RANGE = (6.0, 80.0)
"""The learned shrinkage stays within these bounds (never trusts one reaction alone)."""

MONTH_END_DAYS = 5
"""A month's last five days are its end (when bookkeeping-like cycles flip priorities)."""

MIN_CELLS = 4
"""Cells with ≥ 2 reactions needed before k is estimated from the person's own data."""


def part_of_day(hour: int) -> str:
    """morning 5–12, afternoon 12–17, evening 17–22, night 22–5."""
    if 5 <= hour < 12:
        return "morning"
    if 12 <= hour < 17:
        return "afternoon"
    return "evening" if 17 <= hour < 22 else "night"


def length(minutes: int | None) -> str | None:
    """short (≤ 10 min), medium (≤ 30), long; None when unknown."""
    if minutes is None:
        return None
    return "short" if minutes <= 10 else "medium" if minutes <= 30 else "long"


def moment_of(local: datetime) -> tuple[str, str, str]:
    """(part of day, weekday or weekend, month end or rest) of a local moment: the same for
    every candidate of a decision, so a pick works it out once, not once per candidate."""
    month_end = (local + timedelta(days=MONTH_END_DAYS)).month != local.month
    day = "weekend" if local.weekday() >= 5 else "weekday"
    return part_of_day(local.hour), day, "month_end" if month_end else "month_rest"


def cells_of(
    candidate: Candidate, local: datetime, moment: tuple[str, str, str] | None = None
) -> list[str]:
    """The cells a candidate falls in at a local moment (`moment`: `moment_of(local)`)."""
    slot, day, cycle = moment or moment_of(local)
    project = candidate.project or "-"
    keys = [
        f"p:{project}",
        f"p:{project}|{slot}",
        f"p:{project}|{day}",
        f"p:{project}|{cycle}",
        f"prio:{candidate.priority}|{cycle}",
    ]
    size = length(candidate.duration_min)
    if size is not None:
        keys.append(f"len:{size}")
    # Moment cells: shared by every candidate of a decision, so they never change a ranking;
    # they soak up "evenings go better" so project × slot cells keep only what is the project's.
    keys += [f"ctx:{slot}|{day}", f"ctx:{cycle}"]
    return keys


class PersonCells:
    """The per-person cell table (see module docstring)."""

    def __init__(self, state: Any) -> None:
        raw = state if isinstance(state, dict) else {}
        cells = raw.get("cells")
        self.cells: dict[str, list[float]] = {}
        if isinstance(cells, dict):
            finite = math.isfinite
            for key, value in cells.items():  # read on every call: indexing, no generators
                if isinstance(value, list) and len(value) == 2:
                    n, s = float(value[0]), float(value[1])
                    if n >= 0 and finite(n) and finite(s):
                        self.cells[str(key)] = [n, s]
        moments = raw.get("moments")
        self.moments = [0.0, 0.0, 0.0]
        if isinstance(moments, list) and len(moments) == 3:
            self.moments = [float(v) for v in moments]

    def dump(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {"cells": self.cells, "moments": self.moments}

    @property
    def noise(self) -> float:
        """σ²: the person's residual variance (0.25 until a few residuals are known)."""
        n, total, squares = self.moments
        if n < 5:
            return 0.25
        mean = total / n
        return max(squares / n - mean * mean, 0.02)

    @property
    def offset(self) -> float:
        """The person's mean residual: answering everything a little better or worse than the
        population moves every candidate alike, so cells are measured from it (otherwise the
        cells served most would drift with it and the rest look better by comparison)."""
        n, total, _ = self.moments
        return total / n if n else 0.0

    @property
    def shrinkage(self) -> float:
        """k = σ² / τ², by the method of moments over cells seen at least twice.

        Plain Python over the few dozen cells a person has: cheaper than building arrays."""
        g = self.offset
        seen = [(n, s / n - g) for n, s in self.cells.values() if n >= 2]
        count = len(seen)
        if count < MIN_CELLS:
            return PRIOR_K
        sigma2 = self.noise
        sampling = sigma2 * sum(1.0 / n for n, _ in seen) / count
        # Cells are deviations from the population: centred at 0.
        tau2 = sum(m * m for _, m in seen) / count - sampling
        if tau2 <= 1e-6:
            return K_RANGE[1]
        return min(max(sigma2 / tau2, K_RANGE[0]), K_RANGE[1])

    def effect(self, key: str, k: float) -> tuple[float, float]:
        """(shrunk mean, posterior variance) of one cell."""
        n, s = self.cells.get(key, (0.0, 0.0))
        return (s - n * self.offset) / (n + k), self.noise / (n + k)

    def effects(self, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Means and variances of several cells under the learned shrinkage (`effect` of each,
        with the person's offset, noise and shrinkage worked out once)."""
        k, g, noise = self.shrinkage, self.offset, self.noise
        empty = (0.0, 0.0)
        counts = [self.cells.get(key, empty) for key in keys]
        means = np.array([(s - n * g) / (n + k) for n, s in counts])
        return means, np.array([noise / (n + k) for n, _ in counts])

    def learn(self, keys: Sequence[str], residual: float) -> None:
        """Fold in one residual (reward − population model − the person's linear deviation).

        The cells of one candidate share what they do not yet explain equally (each keeps its
        own effect plus 1/m of the surprise), so m overlapping cells never claim the same
        surprise m times over.
        """
        means, _ = self.effects(keys)
        surprise = (residual - self.offset - float(means.sum())) / len(keys)
        for key, own in zip(keys, means, strict=True):
            n, s = self.cells.get(key, [0.0, 0.0])
            self.cells[key] = [n + 1.0, s + self.offset + own + surprise]
        self.moments = [
            self.moments[0] + 1.0,
            self.moments[1] + residual,
            self.moments[2] + residual * residual,
        ]
