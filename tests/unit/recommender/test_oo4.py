"""oo-v4: the task's length as a feature (scaled and bounded, the same from a feature table as
from the mappings), and a person's taste for short tasks learned from their answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest

from backend.recommender.feature_table import FeatureTable
from backend.recommender.features import Candidate, Context, candidate_features
from backend.recommender.policies import OOv4Policy
from backend.recommender.policies.arrays import unpack
from backend.recommender.policies.vectors import OO4_NAMES, OO_NAMES, oo, oo4, oo4_table

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def test_task_length_is_log_minutes_over_15_bounded_and_zero_when_unknown() -> None:
    rows = [{"duration_min": m} for m in (2.0, 15.0, 120.0, 0.0, 10_000.0, float("nan"))]
    length = oo4(rows)[:, OO4_NAMES.index("task_length")]
    assert length == pytest.approx([np.log2(2 / 15) / 3, 0.0, 1.0, 0.0, 1.5, 0.0])
    assert oo4(rows)[:, : len(OO_NAMES)] == pytest.approx(oo(rows))


def test_the_table_gives_the_mappings_vectors() -> None:
    cands = [
        Candidate(item_ref=f"t{i}", source="demo", kind="task", content="x", duration_min=m)
        for i, m in enumerate((5, None, 90))
    ]
    context = Context(now=NOW)
    raw = {c.item_ref: candidate_features(c, context) for c in cands}
    assert [raw[c.item_ref]["duration_min"] for c in cands] == [5.0, 0.0, 90.0]
    table = FeatureTable.build(cands, raw)
    assert oo4_table(table) == pytest.approx(oo4([raw[c.item_ref] for c in cands]))


def test_a_taste_for_short_tasks_is_learned() -> None:
    rng = np.random.default_rng(4)
    policy = OOv4Policy(seed=4)
    state = policy.initial_state()
    cands = [
        Candidate(item_ref=f"t{i}", source="demo", kind="task", content="x", duration_min=m)
        for i, m in enumerate((3, 5, 45, 60, 90, 120))
    ]
    feats = {c.item_ref: candidate_features(c, Context(now=NOW)) for c in cands}
    context = Context(now=NOW, features=feats, table=FeatureTable.build(cands, feats))
    short = []
    for _ in range(150):
        d = policy.score(state, context, cands)
        quick = (cands[d.choice].duration_min or 0) <= 5
        short.append(quick)
        done = rng.random() < (0.7 if quick else 0.1)
        state = policy.update(state, context, cands[d.choice], 1.0 if done else -0.45)
        state = json.loads(json.dumps(state))  # as stored
    assert np.mean(short[-50:]) > 0.8
    assert unpack(state["delta"]["mu"])[OO4_NAMES.index("task_length")] < -0.05
