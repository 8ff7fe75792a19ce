"""On a stationary stream where one feature drives reward, every learning policy beats random.

10 candidates per decision with random features; the expected reward of a pick is
0.8 · driver − 0.4 (plus noise), so random earns about −0.16 and always picking a driver item
about +0.38. Two drivers: being overdue (which oo-v1's expert prior already likes) and being
*low* priority (which its prior dislikes: it has to learn against it). Fixed seeds: the figures
are deterministic.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from backend.recommender.features import Candidate, Context
from backend.recommender.policies import (
    EpsilonGreedy,
    LinearThompson,
    LinUCB,
    OOPolicy,
    Policy,
    RandomPolicy,
)

DECISIONS = 1_000
LAST = 200
MARGIN = 0.3
"""Required lead over random in mean reward of the last 200 decisions (reward scale −1..1)."""


def driver_value(features: dict[str, float], driver: str) -> float:
    if driver == "overdue":
        return features["is_overdue"]
    return 1.0 if features["priority"] == 1.0 else 0.0


def mean_reward_of_last(policy: Policy, driver: str = "overdue", seed: int = 7) -> float:
    rng = np.random.default_rng(seed)
    state = policy.initial_state()
    rewards = []
    now = datetime(2026, 3, 10, 9, tzinfo=UTC)
    for t in range(DECISIONS):
        cands, feats = [], {}
        for i in range(10):
            ref = f"{t}:{i}"
            overdue = float(rng.random() < 0.3)
            cands.append(Candidate(item_ref=ref, source="sim", kind="task", content=""))
            feats[ref] = {
                "is_overdue": overdue,
                "days_overdue": overdue * float(rng.integers(1, 10)),
                "priority": float(rng.choice([1, 2, 3, 4], p=[0.3, 0.25, 0.25, 0.2])),
                "task_age_days": float(rng.exponential(30)),
                "hour_of_day": float(rng.integers(0, 24)),
                "day_of_week": float(rng.integers(0, 7)),
            }
        ctx = Context(now=now, features=feats)
        d = policy.score(state, ctx, cands)
        picked = feats[cands[d.choice].item_ref]
        value = driver_value(picked, driver)
        reward = float(np.clip(0.8 * value - 0.4 + rng.normal(0, 0.3), -1, 1))
        rewards.append(reward)
        state = policy.update(state, ctx, cands[d.choice], reward)
    return float(np.mean(rewards[-LAST:]))


@pytest.mark.parametrize("driver", ["overdue", "low_priority"])
@pytest.mark.parametrize("cls", [EpsilonGreedy, LinUCB, LinearThompson, OOPolicy])
def test_learning_policy_beats_random(cls: type, driver: str) -> None:
    baseline = mean_reward_of_last(RandomPolicy(seed=1), driver)
    learned = mean_reward_of_last(cls(seed=1), driver)
    assert baseline < -0.05
    assert learned > baseline + MARGIN, (cls.id, driver, learned, baseline)
