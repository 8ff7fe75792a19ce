"""A monotonic clock for tests: it moves only when a test moves it (`clock.now += seconds`)."""

from __future__ import annotations


class ManualClock:
    """Pass it where code takes a `clock: Callable[[], float]` (e.g. the principal cache)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
