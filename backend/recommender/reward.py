"""Reward inference from the reaction and its dwell time (the seed's `inferReward` table).

Bands for "done", in milliseconds of dwell (time from tip shown to reaction):
    dwell < 15 000                -> -0.3  (too quick: it was done already, or a reflex tap)
    15 000 <= dwell <= 120 000    -> +1.0  (the "magic zone")
    120 000 < dwell <= 600 000    -> +0.6
    dwell > 600 000               -> +0.3
Each band includes its upper bound, matching "> 10 min" for the last one.
"""

from __future__ import annotations

from enum import StrEnum

DISMISS_REWARD = -1.0
SNOOZE_REWARD = 0.1
MAGIC_ZONE_START_MS = 15_000
MAGIC_ZONE_END_MS = 120_000
LATE_END_MS = 600_000
MAX_DWELL_MS = 24 * 3600 * 1000
"""A dwell above a day is not a measurement of attention; it is refused as bad input."""


class Action(StrEnum):
    """A reaction to a tip."""

    DONE = "done"
    SNOOZE = "snooze"
    DISMISS = "dismiss"


def infer_reward(action: Action, dwell_ms: int) -> float:
    """The reward for a reaction after `dwell_ms` of visible time."""
    if dwell_ms < 0:
        raise ValueError("dwell_ms must not be negative")
    if action is Action.DISMISS:
        return DISMISS_REWARD
    if action is Action.SNOOZE:
        return SNOOZE_REWARD
    if dwell_ms < MAGIC_ZONE_START_MS:
        return -0.3
    if dwell_ms <= MAGIC_ZONE_END_MS:
        return 1.0
    if dwell_ms <= LATE_END_MS:
        return 0.6
    return 0.3
