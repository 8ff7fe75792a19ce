"""Off-policy evaluation on logged push decisions: the logging policy evaluates to what it
earned, and a policy that never pushes to zero."""

from __future__ import annotations

import random

import pytest

from backend.notifier.push_ope import LoggedPush, evaluate, reward
from backend.recommender.push_policy import PushContext


def _log(n: int, seed: int = 0) -> list[LoggedPush]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        ctx = PushContext(local_hour=rng.randrange(24), weekend=False)
        p_push = 0.3
        pushed = rng.random() < p_push
        outcome = ("reacted" if rng.random() < 0.4 else "ignored") if pushed else None
        out.append(LoggedPush(ctx, pushed, p_push if pushed else 1 - p_push, outcome))
    return out


def test_rewards_of_outcomes() -> None:
    ctx = PushContext(9, False)
    assert reward(LoggedPush(ctx, True, 0.5, "reacted")) == 1.0
    assert reward(LoggedPush(ctx, True, 0.5, "ignored")) == 0.0
    assert reward(LoggedPush(ctx, True, 0.5, "turned_off")) < -1
    assert reward(LoggedPush(ctx, False, 0.5, None)) == 0.0


def test_the_logging_policy_evaluates_to_what_it_earned_and_never_pushing_to_zero() -> None:
    log = _log(4000)
    earned = sum(reward(d) for d in log) / len(log)
    same = evaluate(log, lambda ctx: 0.3)
    assert same["snips"] == pytest.approx(earned, abs=1e-9)
    assert same["ips"] == pytest.approx(earned, abs=1e-9)
    assert evaluate(log, lambda ctx: 0.0)["ips"] == 0.0
    # pushing always: about 0.4 reactions per decision
    assert evaluate(log, lambda ctx: 1.0)["snips"] == pytest.approx(0.4, abs=0.05)
    assert evaluate([], lambda ctx: 1.0)["n"] == 0
