"""oo-v5: the person's own choice model (`habit_choice`) as a feature — scaled and bounded, the
same from a feature table as from the mappings, steering the first picks before any answer, and
with propensities that are exactly the distribution each pick is drawn from."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest

from backend.recommender.choice_model import SLOTS, TERMS, ChoiceModel
from backend.recommender.feature_table import FeatureTable
from backend.recommender.features import Candidate, Context, candidate_features, with_habits
from backend.recommender.habits import Habits
from backend.recommender.policies import OOv5Policy, get_policy
from backend.recommender.policies.vectors import OO4_NAMES, OO5_NAMES, oo4, oo5, oo5_table

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # a Tuesday morning


def _likes_work() -> Habits:
    """A history whose fitted model says: Work first in the mornings, urgent work first."""
    weights = tuple(1.0 if name == "priority" else 0.0 for name in TERMS)
    work = tuple(1.5 if slot == "morning" else 0.0 for slot in SLOTS)
    return replace(Habits(), choice=ChoiceModel(n=80, weights=weights, projects={"Work": work}))


def _candidates() -> list[Candidate]:
    return [
        Candidate(
            item_ref=f"t{i}",
            source="demo",
            kind="task",
            content="x",
            project=("Home", "Work", "Errands")[i % 3],
            priority=1 + i % 2,
        )
        for i in range(6)
    ]


def _context(habits: Habits | None) -> Context:
    cands = _candidates()
    base = Context(now=NOW)
    if habits is not None:
        base = with_habits(base, habits, cands)
    feats = {c.item_ref: candidate_features(c, base) for c in cands}
    return Context(now=NOW, features=feats, table=FeatureTable.build(cands, feats))


def test_habit_choice_is_the_models_utility_halved_and_bounded() -> None:
    context = _context(_likes_work())
    raw = context.features
    assert raw is not None
    # t1 is Work, priority 2: 1.5 (Work in the morning) + 1.0 × (2 − 1)/3.
    assert raw["t1"]["habit_choice"] == pytest.approx(1.8333, abs=1e-4)
    assert raw["t0"]["habit_choice"] == 0.0  # Home, priority 1: nothing in the model
    rows = [{"habit_choice": v} for v in (3.0, -10.0, float("nan"), 0.0)]
    column = oo5(rows)[:, OO5_NAMES.index("habit_choice")]
    assert column == pytest.approx([1.5, -2.0, 0.0, 0.0])
    assert oo5(rows)[:, : len(OO4_NAMES)] == pytest.approx(oo4(rows))
    mappings = [raw[c.item_ref] for c in _candidates()]
    assert context.table is not None
    assert oo5_table(context.table) == pytest.approx(oo5(mappings))
    # Without a fitted history the feature is 0 for everyone: oo-v5 sees what oo-v4 sees.
    plain = _context(Habits())
    assert plain.features is not None
    assert {f["habit_choice"] for f in plain.features.values()} == {0.0}


def test_the_history_steers_the_first_picks_before_any_answer() -> None:
    policy = OOv5Policy(seed=5)
    assert get_policy("oo-v5").id == "oo-v5"
    state = policy.initial_state()
    cands = _candidates()
    liked = _context(_likes_work())
    picks = [cands[policy.score(state, liked, cands).choice].project for _ in range(200)]
    assert picks.count("Work") / len(picks) > 0.9
    unknown = _context(Habits())
    picks = [cands[policy.score(state, unknown, cands).choice].project for _ in range(200)]
    assert picks.count("Work") / len(picks) < 0.7  # the priority prior alone: not Work itself


def test_propensities_match_the_frequencies_of_the_picks() -> None:
    policy = OOv5Policy(seed=11)
    policy.epsilon = 0.1  # a visible uniform share, so every candidate is picked now and then
    state = policy.initial_state()
    cands = _candidates()
    ctx = _context(_likes_work())
    rng = np.random.default_rng(3)
    for _ in range(40):  # some learning, so the distribution is neither uniform nor the prior
        d = policy.score(state, ctx, cands)
        done = rng.random() < (0.2 if cands[d.choice].project == "Work" else 0.5)
        state = policy.update(state, ctx, cands[d.choice], 1.0 if done else -1.0)
        state = json.loads(json.dumps(state))  # as stored
    draws = 6000
    counts = np.zeros(len(cands))
    mean_probs = np.zeros(len(cands))
    for _ in range(draws):
        d = policy.score(state, ctx, cands)
        assert sum(d.probabilities) == pytest.approx(1.0, abs=1e-12)
        assert d.propensity == d.probabilities[d.choice]
        counts[d.choice] += 1
        mean_probs += np.asarray(d.probabilities)
    mean_probs /= draws
    se = np.sqrt(mean_probs * (1 - mean_probs) / draws)
    assert np.all(np.abs(counts / draws - mean_probs) < 4 * se + 1e-3)
    assert mean_probs.min() >= policy.epsilon / len(cands) - 1e-12
