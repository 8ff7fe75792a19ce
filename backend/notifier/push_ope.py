"""Off-policy evaluation of push decisions: what would another push policy have earned on the
decisions we logged? The learner's decisions carry the propensity of the action taken, so the
estimators of ADR 0014 (IPS, SNIPS) apply as they do to tips. Hard-rule holds are left out:
no policy could have pushed there. The budget's rest holds stay in: the learned policy held
there with certainty (propensity 1), another policy might have pushed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from backend.notifier.decider import context_of
from backend.notifier.tables import PushDecision
from backend.recommender import push_policy
from backend.simulation.ope import OpeInput, ips, snips

LEARNER_REASONS = ("value", "below_threshold", "better_hour", "better_later", "rest", "weak_tip")
"""The learned policy's decisions (a budget's `rest` hold and the tip floor's `weak_tip` hold
are, with propensity 1; `better_later` is how older rows name `better_hour`)."""
TURN_OFF_REWARD = -3.0
"""A turn-off costs three reactions' worth: it ends every later chance."""

TargetPolicy = Callable[[push_policy.PushContext], float]
"""P(push | context) of the policy to evaluate."""


@dataclass(frozen=True)
class LoggedPush:
    """One learner decision: its context, action, propensity and outcome."""

    context: push_policy.PushContext
    pushed: bool
    propensity: float
    outcome: str | None


def reward(d: LoggedPush) -> float:
    """1 for a reaction, TURN_OFF_REWARD for a turn-off, else 0 (a hold earns nothing)."""
    if not d.pushed:
        return 0.0
    if d.outcome in push_policy.REACTED:
        return 1.0
    return TURN_OFF_REWARD if d.outcome == "turned_off" else 0.0


def evaluate(decisions: Sequence[LoggedPush], target: TargetPolicy) -> dict[str, float]:
    """IPS and SNIPS of the target's mean reward per decision, and n."""
    if not decisions:
        return {"n": 0.0, "ips": 0.0, "snips": 0.0}
    pushes = np.array([target(d.context) for d in decisions])
    taken = np.array([p if d.pushed else 1.0 - p for d, p in zip(decisions, pushes, strict=True)])
    zeros = np.zeros(len(decisions))
    x = OpeInput(
        reward=np.array([reward(d) for d in decisions]),
        logging=np.array([max(1e-6, d.propensity) for d in decisions]),
        target=taken,
        direct=zeros,
        q_served=zeros,
    )
    return {"n": float(len(decisions)), "ips": ips(x), "snips": snips(x)}


async def logged(since: datetime, limit: int = 100_000) -> list[LoggedPush]:
    """The learner's decisions since a time (pushes whose outcome is still open left out)."""
    rows = (
        await PushDecision.select(
            PushDecision.context,
            PushDecision.push,
            PushDecision.propensity,
            PushDecision.outcome,
        )
        .where(
            PushDecision.reason.is_in(list(LEARNER_REASONS)) & (PushDecision.decided_at >= since)
        )
        .limit(limit)
        .output(load_json=True)
    )
    return [
        LoggedPush(context_of(r["context"]), bool(r["push"]), r["propensity"], r["outcome"])
        for r in rows
        if not (r["push"] and r["outcome"] is None)
    ]
