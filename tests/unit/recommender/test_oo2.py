"""oo-v2: exact propensities, a state that survives JSON, and a planted person effect learned
faster than oo-v1 (behaviour on a tiny seeded world, not timing)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from backend.recommender.features import Candidate, Context
from backend.recommender.policies import OOPolicy, OOv2Policy, Policy
from backend.recommender.policies.person_cells import PersonCells, cells_of, moment_of

START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a Monday


def _world(step: int) -> tuple[datetime, list[Candidate], dict[str, dict[str, float]]]:
    """Two tasks alike in every feature the population model sees, from two projects."""
    now = START + timedelta(hours=7 * step)
    cands = [
        Candidate(item_ref=f"{p}:{step}", source="demo", kind="task", content=p, project=p)
        for p in ("Home", "Work")
    ]
    feats = {c.item_ref: {"priority": 2.0, "task_age_days": 3.0} for c in cands}
    return now, cands, feats


def _planted(candidate: Candidate, now: datetime) -> float:
    """The person: Home tasks in the evening and night, Work tasks in the day."""
    evening = now.hour >= 17 or now.hour < 5
    return 1.0 if (candidate.project == "Home") == evening else -0.5


def _late_hit_rate(policy: Policy, steps: int = 400) -> float:
    rng = np.random.default_rng(3)
    state = policy.initial_state()
    hits = []
    for step in range(steps):
        now, cands, feats = _world(step)
        ctx = Context(now=now, features=feats)
        d = policy.score(state, ctx, cands)
        best = max(range(2), key=lambda i: _planted(cands[i], now))
        hits.append(d.choice == best)
        reward = _planted(cands[d.choice], now) + float(rng.normal(0, 0.3))
        state = json.loads(json.dumps(policy.update(state, ctx, cands[d.choice], reward)))
    return float(np.mean(hits[steps // 2 :]))


def test_a_planted_project_by_time_effect_is_learned_where_oo_v1_cannot() -> None:
    v1, v2 = _late_hit_rate(OOPolicy(seed=1)), _late_hit_rate(OOv2Policy(seed=1))
    assert v2 >= 0.7
    assert v2 >= v1 + 0.15


@pytest.mark.parametrize("n", [1, 3, 12])
def test_propensities_sum_to_one_and_match_the_logged_pick(n: int) -> None:
    policy = OOv2Policy(seed=7)
    state = policy.initial_state()
    for step in range(30):
        now = START + timedelta(hours=5 * step)
        cands = [
            Candidate(
                item_ref=f"t{i}",
                source="demo",
                kind="task",
                content="x",
                project=("Home", "Work", "Health")[i % 3],
                priority=1 + i % 4,
                duration_min=(5, 30, 90)[i % 3],
            )
            for i in range(n)
        ]
        ctx = Context(now=now, features={c.item_ref: {"priority": 1.0} for c in cands})
        d = policy.score(state, ctx, cands)
        assert sum(d.probabilities) == pytest.approx(1.0, abs=1e-12)
        assert min(d.probabilities) > 0
        assert d.propensity == d.probabilities[d.choice]
        state = policy.update(state, ctx, cands[d.choice], 1.0 if step % 3 else -0.5)
    assert json.loads(json.dumps(state)) == state


def test_cells_name_project_slot_month_end_and_length() -> None:
    task = Candidate(
        item_ref="t", source="demo", kind="task", content="x", project="Finance", duration_min=5
    )
    keys = cells_of(task, datetime(2026, 3, 30, 20, 0))
    assert "p:Finance|evening" in keys
    assert "p:Finance|month_end" in keys
    assert "len:short" in keys
    at = datetime(2026, 3, 30, 20, 0)
    assert cells_of(task, at, moment_of(at)) == keys, "a pick's shared moment: the same cells"


def test_shrinkage_is_learned_from_the_persons_spread() -> None:
    real, noise = PersonCells({}), PersonCells({})
    rng = np.random.default_rng(0)
    for i in range(400):
        key = f"c{i % 8}"
        real.learn([key], (1.0 if i % 8 < 4 else -1.0) + float(rng.normal(0, 0.3)))
        noise.learn([key], float(rng.normal(0, 0.3)))
    assert real.shrinkage < noise.shrinkage
    mean, _ = real.effects(["c0"])
    assert mean[0] > 0.5
