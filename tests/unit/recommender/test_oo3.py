"""oo-v3: the posterior update is exact Bayesian linear regression, the prior shrinks feature by
feature, the answer's effect is read back from the reward, and the logged propensities are the
distribution the pick is drawn from (behaviour on seeded data, not timing)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from backend.recommender.feature_table import FeatureTable
from backend.recommender.features import Candidate, Context
from backend.recommender.policies import OOv3Policy
from backend.recommender.policies.person_model import (
    DEFAULT_VALUES,
    Values,
    diagonal_prior,
    effect_of,
    load_deviation,
    prior_precision,
)
from backend.recommender.policies.vectors import OO_NAMES
from backend.recommender.reward import HELPFUL_REWARD, TRUE_REWARD

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # a Tuesday


def test_the_posterior_is_exact_bayesian_linear_regression() -> None:
    rng = np.random.default_rng(0)
    precision = np.array([4.0, 25.0, 100.0, 1.0])
    model = diagonal_prior(precision)
    X = rng.normal(size=(60, 4))
    y = X @ np.array([0.5, -0.2, 0.1, 0.3]) + rng.normal(0, 0.5, 60)
    for x, target in zip(X, y, strict=True):
        model.update(x, float(target))
    A = np.diag(precision) + X.T @ X
    assert model.covariance == pytest.approx(np.linalg.inv(A), abs=1e-10)
    assert model.mu == pytest.approx(np.linalg.solve(A, X.T @ y), abs=1e-10)


def test_a_wide_prior_moves_with_the_data_and_a_narrow_one_stays_near_the_population() -> None:
    precision = prior_precision(("wide", "narrow"), {"wide": 0.3, "narrow": 0.01}, 0.22)
    model = diagonal_prior(precision)
    for _ in range(40):  # both features present, the outcome 0.5 above the population
        model.update(np.array([1.0, 1.0]), 0.5)
    wide, narrow = model.mu
    assert wide > 0.4
    assert abs(narrow) < 0.02
    # Shrinkage of the narrow weight matches its closed form for this design.
    A = np.diag(precision) + 40 * np.ones((2, 2))
    assert model.mu == pytest.approx(np.linalg.solve(A, 40 * 0.5 * np.ones(2)), abs=1e-10)


def test_a_malformed_deviation_falls_back_to_the_prior() -> None:
    precision = np.full(3, 10.0)
    assert load_deviation({"S": 3}, precision).covariance == pytest.approx(np.eye(3) / 10)
    good = diagonal_prior(np.full(5, 2.0)).dump()
    assert load_deviation(good, precision).mu.shape == (3,)


@pytest.mark.parametrize(
    ("reward", "done"),
    [(1.0, 1.0), (0.6, 1.0), (0.3, 1.0), (-0.3, 1.0), (0.8, 1.0), (0.1, 0.0), (-1.0, 0.0)],
)
def test_the_effect_is_read_back_from_the_reward_table(reward: float, done: float) -> None:
    assert effect_of(reward) == done


def test_values_start_at_the_defaults_and_follow_the_persons_answers() -> None:
    values = Values(None)
    assert (values.done, values.not_done) == DEFAULT_VALUES
    for _ in range(90):
        values.learn(1.0, 1.0)
        values.learn(0.0, 0.1)
    assert values.done == pytest.approx((90 + 10 * DEFAULT_VALUES[0]) / 100)
    assert values.not_done == pytest.approx((9 + 10 * DEFAULT_VALUES[1]) / 100)
    assert Values(json.loads(json.dumps(values.dump()))).sums == values.sums


def _candidates(n: int) -> tuple[list[Candidate], dict[str, dict[str, float]]]:
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
    feats = {
        c.item_ref: {"priority": float(c.priority), "due_today": float(i % 2)}
        for i, c in enumerate(cands)
    }
    return cands, feats


def test_propensities_match_the_frequencies_of_the_picks() -> None:
    policy = OOv3Policy(seed=11)
    policy.epsilon = 0.1  # a visible uniform share, so every candidate is picked now and then
    state = policy.initial_state()
    cands, feats = _candidates(5)
    ctx = Context(now=NOW, features=feats)
    for _ in range(40):  # some learning, so the distribution is not uniform
        d = policy.score(state, ctx, cands)
        state = policy.update(state, ctx, cands[d.choice], 1.0 if d.choice % 2 else -1.0)
    draws = 6000
    counts = np.zeros(5)
    mean_probs = np.zeros(5)
    for _ in range(draws):
        d = policy.score(state, ctx, cands)
        assert sum(d.probabilities) == pytest.approx(1.0, abs=1e-12)
        assert d.propensity == d.probabilities[d.choice]
        counts[d.choice] += 1
        mean_probs += np.asarray(d.probabilities)
    mean_probs /= draws
    # Each pick is drawn from the distribution it logs: frequencies agree with the mean logged
    # probabilities within a few binomial standard errors.
    se = np.sqrt(mean_probs * (1 - mean_probs) / draws)
    assert np.all(np.abs(counts / draws - mean_probs) < 4 * se + 1e-3)
    assert mean_probs.max() > 0.3  # learned something: not uniform


def test_a_person_who_never_does_urgent_work_is_learned() -> None:
    """The population says urgency helps; this person does only priority-1 tasks."""
    policy = OOv3Policy(seed=3)
    state = policy.initial_state()
    rng = np.random.default_rng(4)
    hits = []
    for step in range(300):
        now = NOW + timedelta(hours=5 * step)
        cands = [
            Candidate(item_ref=f"p{p}:{step}", source="demo", kind="task", content="", priority=p)
            for p in (1, 4)
        ]
        feats = {c.item_ref: {"priority": float(c.priority)} for c in cands}
        ctx = Context(now=now, features=feats)
        d = policy.score(state, ctx, cands)
        hits.append(d.choice == 0)
        done = rng.random() < (0.6 if d.choice == 0 else 0.2)
        state = policy.update(state, ctx, cands[d.choice], 1.0 if done else -1.0)
        state = json.loads(json.dumps(state))
    assert np.mean(hits[150:]) > 0.8
    assert state["delta"]["mu"]["shape"] == [len(OO_NAMES)]


def test_a_feature_table_scores_exactly_as_the_mappings() -> None:
    cands, feats = _candidates(30)
    learner = OOv3Policy(seed=3)
    state = learner.initial_state()
    plain = Context(now=NOW, features=feats)
    for k in range(60):  # cells and δ away from their prior
        state = learner.update(state, plain, cands[k % 30], 1.0 if k % 3 else -0.45)
    tabled = Context(now=NOW, features=feats, table=FeatureTable.build(cands, feats))
    for _ in range(3):  # the table's kept groups and widened matrix are reused on later calls
        by_rows = OOv3Policy(seed=5).score(state, plain, cands)
        by_table = OOv3Policy(seed=5).score(state, tabled, cands)
        assert by_table.choice == by_rows.choice
        assert by_table.probabilities == pytest.approx(by_rows.probabilities, abs=1e-12)


def test_written_kinds_are_priced_at_their_flat_reward_and_tasks_at_the_persons() -> None:
    policy = OOv3Policy(seed=0)
    kinds = ("task", "advice", "insight", "reminder")
    cands = [Candidate(item_ref=k, source="demo", kind=k, content="x") for k in kinds]
    X = policy.features(Context(now=NOW), cands)
    values = Values([4.0, 4.0, 4.0, -2.0])  # the person's own: done 0.5, not done −0.4
    gains = policy._gains(X, values)
    done = [values.done, HELPFUL_REWARD, TRUE_REWARD, values.done]
    assert gains == pytest.approx(np.array(done) - values.not_done)
