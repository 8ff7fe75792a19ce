"""Small statistics shared by agents (pure Python: histories are tens to hundreds of events)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from agents.types import History


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation, like numpy's default."""
    if not values:
        raise ValueError("percentile of nothing")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = math.floor(pos)
    hi = math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float:
    """The median."""
    return percentile(values, 50)


def mean(values: Sequence[float]) -> float:
    """The arithmetic mean (0 for nothing)."""
    return sum(values) / len(values) if values else 0.0


def pstdev(values: Sequence[float]) -> float:
    """Population standard deviation (0 for fewer than two values)."""
    if len(values) < 2:
        return 0.0
    m = mean(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / len(values))


def hour_counts(history: History) -> list[int]:
    """Done events per local hour of day, 0..23 (computed once per history)."""

    def count() -> list[int]:
        counts = [0] * 24
        for at in history.local_done:
            counts[at.hour] += 1
        return counts

    return list(history.memo("hour_counts", count))


def longest_circular_run(flags: Sequence[bool]) -> tuple[int, int]:
    """(start, length) of the longest run of True, wrapping around the end (hours of a day).

    Ties go to the run found first when scanning from the start of the first False-to-True
    edge, so the answer is stable for a given input. (0, 0) when nothing is True.
    """
    n = len(flags)
    if not any(flags):
        return 0, 0
    if all(flags):
        return 0, n
    # Start scanning just after a False so a run that wraps midnight is seen whole.
    first_false = next(i for i, f in enumerate(flags) if not f)
    best_start, best_len, run_start, run_len = 0, 0, 0, 0
    for step in range(1, n + 1):
        i = (first_false + step) % n
        if flags[i]:
            if run_len == 0:
                run_start = i
            run_len += 1
            if run_len > best_len:
                best_start, best_len = run_start, run_len
        else:
            run_len = 0
    return best_start, best_len


def peak_to_mean(rates: Sequence[float]) -> tuple[int, float]:
    """(index of the peak, strength = peak / mean - 1); strength 0 when everything is zero."""
    m = mean(rates)
    if m <= 0:
        return 0, 0.0
    peak = max(range(len(rates)), key=lambda i: (rates[i], -i))
    return peak, rates[peak] / m - 1
