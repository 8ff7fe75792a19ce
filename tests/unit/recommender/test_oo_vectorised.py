"""oo-v1's cached, vectorised feature matrix decides exactly as the plain per-row conversion.

The reference converts each candidate's raw mapping on its own through the `.get` path (the way
oo-v1 built its matrix before the row cache), so any drift in the fast extraction, the cache's
identity check or its slot bookkeeping shows up as a different pick or propensity.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pytest

from backend.recommender.features import Candidate, Context
from backend.recommender.policies import OOPolicy
from backend.recommender.policies.base import raw_rows
from backend.recommender.policies.feature_rows import FeatureRows
from backend.recommender.policies.vectors import OO_NAMES, oo

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


class RowByRowOO(OOPolicy):
    """oo-v1 with each candidate converted on its own, no cache (the reference)."""

    def features(self, context: Context, candidates: Sequence[Candidate]) -> np.ndarray:
        rows = raw_rows(context, candidates)
        return np.vstack([oo([dict(row)]) for row in rows])


def random_features(rng: np.random.Generator, partial: bool) -> dict[str, float]:
    overdue = float(rng.random() < 0.3)
    feats = {
        "is_overdue": overdue,
        "due_today": float(rng.random() < 0.1),
        "due_soon": float(rng.random() < 0.1),
        "days_overdue": overdue * float(rng.integers(1, 20)),
        "task_age_days": float(rng.exponential(30)),
        "priority": float(rng.integers(1, 5)),
        "is_recurring": float(rng.random() < 0.2),
        "kind_advice": float(rng.random() < 0.2),
        "kind_reminder": 0.0,
        "ignored_count": float(rng.integers(0, 3)),
        "hours_since_served": float(rng.uniform(0, 720)),
        "time_fit": float(rng.uniform(-1, 1)),
        "project_time_fit": float(rng.uniform(-1, 1)),
        "project_affinity": float(rng.uniform(-1, 1)),
        "habit_project": float(rng.uniform(-1, 1)),
        "habit_time": float(rng.uniform(-1, 1)),
        "habit_late": overdue * float(rng.uniform(-1, 1)),
    }
    if partial:  # a logged row from before some feature existed: defaults fill the gap
        del feats["habit_time"]
    return feats


def decisions(rng: np.random.Generator, count: int) -> list[tuple[list[Candidate], Context]]:
    """Candidate sets that share item_refs across decisions, with fresh, reused or partial rows."""
    sets: list[tuple[list[Candidate], Context]] = []
    for _ in range(count):
        n = int(rng.integers(1, 60))
        refs = [f"item:{int(i)}" for i in rng.choice(80, size=n, replace=False)]
        cands = [Candidate(item_ref=r, source="t", kind="task", content="") for r in refs]
        if sets and rng.random() < 0.3:  # the same mappings again (shadows, the update)
            cands, ctx = sets[int(rng.integers(len(sets)))]
        else:
            partial = bool(rng.random() < 0.1)
            feats = {r: random_features(rng, partial) for r in refs}
            ctx = Context(now=NOW, features=feats)
        sets.append((cands, ctx))
    return sets


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_vectorised_policy_picks_like_the_row_by_row_one(seed: int) -> None:
    rng = np.random.default_rng(seed)
    fast, reference = OOPolicy(seed=seed), RowByRowOO(seed=seed)
    fast_state, ref_state = fast.initial_state(), reference.initial_state()
    for cands, ctx in decisions(rng, 150):
        a = fast.score(fast_state, ctx, cands)
        b = reference.score(ref_state, ctx, cands)
        assert a.choice == b.choice
        assert a.propensity == b.propensity
        assert a.probabilities == b.probabilities
        reward = float(rng.uniform(-1, 1))
        fast_state = fast.update(fast_state, ctx, cands[a.choice], reward)
        ref_state = reference.update(ref_state, ctx, cands[b.choice], reward)
        assert fast_state == ref_state


def test_a_new_mapping_for_a_known_item_is_converted_again() -> None:
    rows = FeatureRows(len(OO_NAMES), oo, capacity=8)
    first = {"priority": 1.0}
    second = {"priority": 4.0}
    low = rows.matrix(["a"], [first])
    high = rows.matrix(["a"], [second])
    assert low[0, OO_NAMES.index("priority")] == 0.0
    assert high[0, OO_NAMES.index("priority")] == 1.0


def test_a_full_store_starts_over_and_stays_right() -> None:
    rows = FeatureRows(len(OO_NAMES), oo, capacity=4)
    batches = [[{"priority": float(1 + (i + k) % 4)} for i in range(3)] for k in range(5)]
    for k, batch in enumerate(batches):
        refs = [f"{k}:{i}" for i in range(3)]
        assert np.array_equal(rows.matrix(refs, batch), oo(batch))
        assert len(rows) <= 4
    too_many = [{"priority": 2.0}] * 6
    assert np.array_equal(rows.matrix([str(i) for i in range(6)], too_many), oo(too_many))
