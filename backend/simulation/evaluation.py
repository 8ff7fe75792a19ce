"""Off-policy evaluation of the service's own decision log, and the promotion estimator.

`oo ope` and promotion both read the rewarded decisions of a time window (served_tip, through
the recommender's decision_log), replay each policy over them (replay.py) and estimate its
value with IPS, SNIPS and DR (ope.py) and their normal-approximation intervals. Replays are
CPU work: they run in a thread so the web process keeps answering while an admin waits for a
promotion decision.

Promotion (docs/adr/0014-simulator-and-off-policy-evaluation.md): a shadow is promotable when
its importance weights are worth at least `MIN_ESS` decisions and the lower bound of its
`PROMOTION_ESTIMATOR` estimate beats the incumbent's estimate
(docs/adr/0028-ope-cross-fitted-dr-and-ess-gate.md) — the mean reward the incumbent actually
earned on the decisions it served in the window (on-policy, the best estimate there is), or its
own off-policy estimate when it served too few of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from backend.recommender import registry
from backend.recommender.decision_log import LoggedTip, rewarded_decisions
from backend.simulation.ope import Estimate, effective_sample_size, estimate
from backend.simulation.replay import LoggedDecision, ope_input, prepare, replay

PROMOTION_ESTIMATOR = "dr"
"""Chosen on the built-in validation (oo ope --validate): the smallest worst-case error."""

PROMOTION_WINDOW_DAYS = 30
MIN_LOGGED = 200
"""Fewer rewarded decisions than this in the window: no estimate (promotion needs force)."""

MIN_ESS = 30.0
"""Fewer effective decisions than this behind the candidate's weights: promotion is refused.
The interval's width already prices the variance; below ~30 effective decisions the normal
approximation behind the interval itself is not trustworthy (a few heavy weights decide it).
See docs/adr/0028-ope-cross-fitted-dr-and-ess-gate.md."""

MIN_SERVED = 100
"""The incumbent's on-policy mean is used when it served at least this many of them."""


@dataclass(frozen=True)
class PolicyEstimate:
    """A policy's estimated value on a window of the log."""

    policy_id: str
    decisions: int
    ess: float
    estimates: dict[str, Estimate]
    served: int
    """Decisions of the window this policy itself served."""
    served_mean: float | None


def to_decisions(tips: Sequence[LoggedTip]) -> list[LoggedDecision]:
    """The recommender's logged tips as replayable decisions."""
    return [
        LoggedDecision(
            user=t.user_id,
            at=t.served_at,
            refs=t.refs,
            keys=tuple(t.keys),
            values=np.asarray(t.values, dtype=float).reshape(len(t.refs), len(t.keys)),
            chosen=t.chosen,
            propensity=t.propensity,
            reward=t.reward,
            policy_id=t.policy_id,
        )
        for t in tips
    ]


def evaluate_log(
    decisions: Sequence[LoggedDecision],
    policy_ids: Sequence[str],
    seed: int = 0,
    bootstrap: int = 0,
) -> list[PolicyEstimate]:
    """Replay and estimate each policy over the same decisions."""
    prepared = prepare(decisions)
    out: list[PolicyEstimate] = []
    for pid in policy_ids:
        x = ope_input(prepared, replay(pid, decisions, seed=seed))
        own = [d.reward for d in decisions if d.policy_id == pid]
        out.append(
            PolicyEstimate(
                policy_id=pid,
                decisions=len(decisions),
                ess=effective_sample_size(x),
                estimates=estimate(x, seed=seed, bootstrap=bootstrap),
                served=len(own),
                served_mean=float(np.mean(own)) if own else None,
            )
        )
    return out


async def estimate_window(
    policy_ids: Sequence[str],
    since: datetime,
    until: datetime | None = None,
    seed: int = 0,
    bootstrap: int = 0,
) -> tuple[int, list[PolicyEstimate]]:
    """(replayable decisions in the window, estimates per policy); no estimates when empty."""
    decisions = to_decisions(await rewarded_decisions(since, until))
    if not decisions:
        return 0, []
    results = await asyncio.to_thread(evaluate_log, decisions, list(policy_ids), seed, bootstrap)
    return len(decisions), results


async def promotion_estimate(candidate_id: str, incumbent_id: str) -> registry.Estimate | None:
    """The registry's estimator (see module docstring); None when the log is too thin."""
    since = datetime.now(UTC) - timedelta(days=PROMOTION_WINDOW_DAYS)
    n, results = await estimate_window([candidate_id, incumbent_id], since)
    if n < MIN_LOGGED:
        return None
    candidate, incumbent = results
    chosen = candidate.estimates[PROMOTION_ESTIMATOR]
    if incumbent.served >= MIN_SERVED and incumbent.served_mean is not None:
        incumbent_value = incumbent.served_mean
    else:
        incumbent_value = incumbent.estimates[PROMOTION_ESTIMATOR].value
    return registry.Estimate(
        estimator=PROMOTION_ESTIMATOR.upper(),
        candidate=chosen.value,
        candidate_lower=chosen.low,
        incumbent=incumbent_value,
        ess=candidate.ess,
        min_ess=MIN_ESS,
    )


def install_promotion_estimator() -> None:
    """Plug the estimator into the policy registry (promotion then needs no `force`)."""
    registry.set_estimator(promotion_estimate)
