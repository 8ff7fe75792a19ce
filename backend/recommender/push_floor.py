"""The tip floor of the push learner, relative to the person: push a tip only when its score
ranks in the upper part of the scores of the person's own recent tips.

The recommender's score has no fixed scale across policies and people (a bandit's estimate, a
rule's nothing), so a raw cut would hold one person's every tip and let another's every tip
through. The rank of the tip among the tips this person was recently shown is comparable:
whatever the scale, a tip in the lower half of the person's own tips is not worth an
interruption — it can wait for the app. Pure functions: the notifier's decider and the
simulator (`oo sim --push`) run the same code. See docs/adr/0040-relative-tip-floor.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

WEAK_TIP = "weak_tip"
"""The reason code of a hold by the floor (deterministic: propensity 1)."""
QUANTILE = 0.55
"""A tip is pushed only when it ranks at or above this share of the person's recent tips."""
WINDOW_DAYS = 7
"""The recent tips: the person's current tips seen by the decider in the last 7 days."""
MIN_TIPS = 5
"""With fewer recent scored tips than this the floor does not apply (a newcomer's first days)."""


@dataclass(frozen=True)
class Floor:
    """The floor's verdict on one tip: its rank among the person's recent tips (None when the
    floor does not apply), how many tips that rank is over, and whether it holds the push."""

    rank: float | None
    tips: int
    holds: bool

    def as_context(self) -> dict[str, float | int | None]:
        """The why, for the decision's logged context."""
        return {"score_rank": self.rank, "floor": QUANTILE, "recent_tips": self.tips}


def score_rank(score: float, recent: Iterable[float]) -> tuple[float | None, int]:
    """(the share of the recent scores below `score`, ties counting half; how many scores).
    The rank is None when there are fewer than MIN_TIPS scores to rank against."""
    scores = list(recent)
    if len(scores) < MIN_TIPS:
        return None, len(scores)
    below = sum(1 for s in scores if s < score)
    ties = sum(1 for s in scores if s == score)
    return (below + 0.5 * ties) / len(scores), len(scores)


def judge(score: float | None, recent: Iterable[float]) -> Floor:
    """The floor for a tip with this score (None: the tip has no score — e.g. a rule served it —
    and the floor does not apply; the learner alone decides)."""
    if score is None:
        return Floor(None, 0, False)
    rank, tips = score_rank(score, recent)
    return Floor(rank, tips, rank is not None and rank < QUANTILE)
