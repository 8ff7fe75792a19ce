"""Reward inference from the answer to a tip and its dwell time (the seed's `inferReward` table,
grown to one set of answers per tip kind — docs/adr/0026-answers-per-kind.md).

Bands for "done", in milliseconds of dwell (time from tip shown to reaction):
    dwell < 15 000                -> -0.3  (too quick: it was done already, or a reflex tap)
    15 000 <= dwell <= 120 000    -> +1.0  (the "magic zone")
    120 000 < dwell <= 600 000    -> +0.6
    dwell > 600 000               -> +0.3
Each band includes its upper bound, matching "> 10 min" for the last one.

Answers per kind (the seed's three answers stay valid on every kind, with their seed rewards):

    kind      answer      effect    reward
    task      done        done      the "done" bands above (effort shows in the dwell)
    task      snooze      snooze    +0.1
    task      dismiss     dismiss   -1.0
    advice    helpful     done      +0.8  flat: reading advice takes seconds, the dwell says little
    advice    not_now     snooze    +0.1  right advice, wrong moment (like snooze)
    advice    not_for_me  dismiss   -1.0  (like dismiss)
    insight   true        done      +0.6  it rings true — less than a finished task or good advice
    insight   not_really  dismiss   -0.5  a miss about the person, milder than "never show this"
    insight   dismiss     dismiss   -1.0
    reminder  done        done      the "done" bands above
    reminder  later       snooze    +0.1
    reminder  dismiss     dismiss   -1.0

The effect is what the answer does besides its reward: "done" hides nothing (a task is closed
at its source), "snooze" hides the item for `snooze_s`, "dismiss" for `dismiss_s`. Stored
reactions keep the effect in `reaction`/`action` (every rollup reads done/snooze/dismiss) and
the answer itself in `feedback.answer`.
"""

from __future__ import annotations

from enum import StrEnum

DISMISS_REWARD = -1.0
SNOOZE_REWARD = 0.1
HELPFUL_REWARD = 0.8
TRUE_REWARD = 0.6
NOT_REALLY_REWARD = -0.5
MAGIC_ZONE_START_MS = 15_000
MAGIC_ZONE_END_MS = 120_000
LATE_END_MS = 600_000
MAX_DWELL_MS = 24 * 3600 * 1000
"""A dwell above a day is not a measurement of attention; it is refused as bad input."""


class Action(StrEnum):
    """An answer to a tip (done / snooze / dismiss, and the answers of the other kinds)."""

    DONE = "done"
    SNOOZE = "snooze"
    DISMISS = "dismiss"
    HELPFUL = "helpful"
    NOT_NOW = "not_now"
    NOT_FOR_ME = "not_for_me"
    TRUE = "true"
    NOT_REALLY = "not_really"
    LATER = "later"


EFFECT: dict[Action, Action] = {
    Action.DONE: Action.DONE,
    Action.SNOOZE: Action.SNOOZE,
    Action.DISMISS: Action.DISMISS,
    Action.HELPFUL: Action.DONE,
    Action.NOT_NOW: Action.SNOOZE,
    Action.NOT_FOR_ME: Action.DISMISS,
    Action.TRUE: Action.DONE,
    Action.NOT_REALLY: Action.DISMISS,
    Action.LATER: Action.SNOOZE,
}
"""What each answer does besides its reward: one of done, snooze, dismiss."""

_FLAT_REWARD: dict[Action, float] = {
    Action.SNOOZE: SNOOZE_REWARD,
    Action.DISMISS: DISMISS_REWARD,
    Action.HELPFUL: HELPFUL_REWARD,
    Action.NOT_NOW: SNOOZE_REWARD,
    Action.NOT_FOR_ME: DISMISS_REWARD,
    Action.TRUE: TRUE_REWARD,
    Action.NOT_REALLY: NOT_REALLY_REWARD,
    Action.LATER: SNOOZE_REWARD,
}
"""Answers whose reward does not depend on the dwell (DONE alone uses the bands)."""


def infer_reward(action: Action, dwell_ms: int) -> float:
    """The reward for an answer after `dwell_ms` of visible time."""
    if dwell_ms < 0:
        raise ValueError("dwell_ms must not be negative")
    flat = _FLAT_REWARD.get(action)
    if flat is not None:
        return flat
    if dwell_ms < MAGIC_ZONE_START_MS:
        return -0.3
    if dwell_ms <= MAGIC_ZONE_END_MS:
        return 1.0
    if dwell_ms <= LATE_END_MS:
        return 0.6
    return 0.3
