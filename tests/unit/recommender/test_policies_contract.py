"""Every policy behind the protocol: propensities, determinism, purity, hand-computed updates."""

from __future__ import annotations

import copy
import json
import math
from datetime import UTC, datetime

import numpy as np
import pytest

from backend.recommender.features import Candidate, Context
from backend.recommender.policies import (
    EpsilonGreedy,
    LinearThompson,
    LinUCB,
    OOPolicy,
    OOv2Policy,
    OOv3Policy,
    OOv4Policy,
    Policy,
    RandomPolicy,
    all_policies,
)
from backend.recommender.policies.arrays import pack, unpack
from backend.recommender.policies.oo import POP_LAMBDA, expert_mean
from backend.recommender.policies.vectors import OO_NAMES, oo, seed5, seed7

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # a Tuesday
CLASSES: list[type] = [
    RandomPolicy,
    EpsilonGreedy,
    LinUCB,
    LinearThompson,
    OOPolicy,
    OOv2Policy,
    OOv3Policy,
    OOv4Policy,
]


def make(cls: type, seed: int) -> Policy:
    policy: Policy = cls(seed=seed)
    return policy


def pool(n: int, rng: np.random.Generator) -> tuple[list[Candidate], dict[str, dict[str, float]]]:
    cands, feats = [], {}
    for i in range(n):
        ref = f"demo:{i}"
        cands.append(Candidate(item_ref=ref, source="demo", kind="task", content=f"t{i}"))
        feats[ref] = {
            "is_overdue": float(rng.random() < 0.3),
            "days_overdue": float(rng.integers(0, 9)),
            "priority": float(rng.integers(1, 5)),
            "task_age_days": float(rng.exponential(20)),
            "hour_of_day": 9.0,
            "day_of_week": 1.0,
            "ignored_count": float(rng.integers(0, 3)),
        }
    return cands, feats


def test_the_registry_knows_every_policy() -> None:
    assert [p.id for p in all_policies()] == [
        "random",
        "egreedy-v1",
        "linucb-v1",
        "lints-v1",
        "oo-v1",
        "oo-v2",
        "oo-v3",
        "oo-v4",
        "oo-v5",
    ]


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("n", [1, 2, 5, 37])
def test_propensities_are_a_distribution_and_positive(cls: type, n: int) -> None:
    rng = np.random.default_rng(n)
    policy = make(cls, seed=5)
    state = policy.initial_state()
    for step in range(20):
        cands, feats = pool(n, rng)
        ctx = Context(now=NOW, features=feats)
        d = policy.score(state, ctx, cands)
        assert len(d.probabilities) == n == len(d.scores)
        assert sum(d.probabilities) == pytest.approx(1.0, abs=1e-12)
        assert min(d.probabilities) > 0
        assert d.propensity == d.probabilities[d.choice]
        state = policy.update(state, ctx, cands[d.choice], 1.0 if step % 2 else -0.3)


@pytest.mark.parametrize("cls", CLASSES)
def test_same_seed_same_decisions_and_states(cls: type) -> None:
    def run(seed: int) -> tuple[list[int], str]:
        rng = np.random.default_rng(11)
        policy = make(cls, seed)
        state = policy.initial_state()
        picks = []
        for _ in range(40):
            cands, feats = pool(6, rng)
            ctx = Context(now=NOW, features=feats)
            d = policy.score(state, ctx, cands)
            picks.append(d.choice)
            state = policy.update(state, ctx, cands[d.choice], float(rng.uniform(-1, 1)))
        return picks, json.dumps(state, sort_keys=True)

    assert run(3) == run(3)
    assert run(3)[0] != run(4)[0]


@pytest.mark.parametrize("cls", CLASSES)
def test_update_is_pure_and_state_is_json(cls: type) -> None:
    policy = make(cls, seed=0)
    state = policy.initial_state()
    before = copy.deepcopy(state)
    cands, feats = pool(3, np.random.default_rng(0))
    after = policy.update(state, Context(now=NOW, features=feats), cands[0], 1.0)
    assert state == before
    assert json.loads(json.dumps(after)) == after


@pytest.mark.parametrize("cls", CLASSES)
def test_extreme_and_broken_features_never_make_nan(cls: type) -> None:
    policy = make(cls, seed=0)
    state = policy.initial_state()
    cands = [Candidate(item_ref=f"x{i}", source="demo", kind="task", content="") for i in range(3)]
    feats = {
        "x0": {"task_age_days": math.inf, "priority": math.nan, "hour_of_day": -1e308},
        "x1": {"days_overdue": 1e300, "ignored_count": -math.inf, "time_fit": math.nan},
        "x2": {},
    }
    ctx = Context(now=NOW, features=feats)
    for i in range(30):
        d = policy.score(state, ctx, cands)
        assert all(math.isfinite(v) for v in [*d.scores, *d.probabilities])
        state = policy.update(state, ctx, cands[i % 3], math.nan if i == 5 else 1e9)
    json.dumps(state, allow_nan=False)


def test_malformed_state_falls_back_to_a_fresh_one() -> None:
    cands, feats = pool(4, np.random.default_rng(0))
    ctx = Context(now=NOW, features=feats)
    for policy in (EpsilonGreedy(seed=0), LinUCB(seed=0), LinearThompson(seed=0), OOPolicy(seed=0)):
        broken = {"A": {"dtype": "<f8", "shape": [9], "b64": "AAAA"}, "delta": 3}
        assert sum(policy.score(broken, ctx, cands).probabilities) == pytest.approx(1.0)


# Raw features whose SEED5 vectors are simple by construction:
#   x1 = [1, 1, 0, 0, 0] (overdue)   x2 = [1, 0, 0, 1, 0] (urgent)   x3 = [1, 0, 0, 0, 1] (23:00)
RAW = [
    {"is_overdue": 1.0, "priority": 1.0, "hour_of_day": 0.0, "day_of_week": 0.0},
    {"is_overdue": 0.0, "priority": 4.0, "hour_of_day": 0.0, "day_of_week": 0.0},
    {"is_overdue": 0.0, "priority": 1.0, "hour_of_day": 23.0, "day_of_week": 0.0},
]
REWARDS = [1.0, -1.0, 0.5]


def learn_three(policy: Policy) -> dict[str, object]:
    state = policy.initial_state()
    for i, (raw, r) in enumerate(zip(RAW, REWARDS, strict=True)):
        ref = f"t{i}"
        ctx = Context(now=NOW, features={ref: raw})
        state = policy.update(state, ctx, Candidate(ref, "demo", "task", ""), r)
    return state


def test_linucb_a_and_b_after_three_updates() -> None:
    np.testing.assert_array_equal(seed5(RAW), [[1, 1, 0, 0, 0], [1, 0, 0, 1, 0], [1, 0, 0, 0, 1]])
    state = learn_three(LinUCB(seed=0))
    A = np.array(
        [
            [4, 1, 0, 1, 1],
            [1, 2, 0, 0, 0],
            [0, 0, 1, 0, 0],
            [1, 0, 0, 2, 0],
            [1, 0, 0, 0, 2],
        ],
        dtype=float,
    )
    b = np.array([0.5, 1.0, 0.0, -1.0, 0.5])  # 1·x1 − 1·x2 + 0.5·x3
    np.testing.assert_allclose(unpack(state["A"]), A, atol=1e-12)  # type: ignore[arg-type]
    np.testing.assert_allclose(unpack(state["b"]), b, atol=1e-12)  # type: ignore[arg-type]
    A_inv = unpack(state["A_inv"])  # type: ignore[arg-type]
    np.testing.assert_allclose(A_inv @ A, np.eye(5), atol=1e-12)


def test_thompson_posterior_mean_and_covariance() -> None:
    X = seed7(RAW)
    # Monday: dow_sin = 0, dow_cos = 1, so x = [1, overdue, 0, priority, hour, 0, 1].
    np.testing.assert_allclose(
        X,
        [[1, 1, 0, 0, 0, 0, 1], [1, 0, 0, 1, 0, 0, 1], [1, 0, 0, 0, 1, 0, 1]],
        atol=1e-12,
    )
    state = learn_three(LinearThompson(seed=0))
    A = np.eye(7) + X.T @ X
    b = X.T @ np.array(REWARDS)
    S = unpack(state["S"])  # type: ignore[arg-type]
    np.testing.assert_allclose(S @ S.T @ A, np.eye(7), atol=1e-12)  # Σ = A⁻¹
    np.testing.assert_allclose(unpack(state["mu"]), np.linalg.solve(A, b), atol=1e-12)  # type: ignore[arg-type]


def test_egreedy_propensities_follow_epsilon() -> None:
    policy = EpsilonGreedy(seed=0)
    state = learn_three(policy)  # overdue (x1) earned +1: it is now the greedy pick
    cands = [Candidate(f"t{i}", "demo", "task", "") for i in range(3)]
    d = policy.score(state, Context(now=NOW, features={f"t{i}": RAW[i] for i in range(3)}), cands)
    assert d.probabilities == pytest.approx([0.9 + 0.1 / 3, 0.1 / 3, 0.1 / 3])


def test_oo_starts_from_the_population_and_learns_a_deviation() -> None:
    policy = OOPolicy(seed=0)
    overdue = {"is_overdue": 1.0, "days_overdue": 3.0, "priority": 1.0}
    fresh = {"priority": 1.0}
    cands = [Candidate("a", "demo", "task", ""), Candidate("b", "demo", "task", "")]
    feats = {"a": overdue, "b": fresh}
    weights = np.zeros(len(OO_NAMES))
    weights[OO_NAMES.index("is_overdue")] = 3.0
    priors = {policy.id: {"mu": pack(weights)}}
    with_prior = Context(now=NOW, features=feats, priors=priors)
    # A new user already follows the population: overdue first, almost always.
    d = policy.score(policy.initial_state(), with_prior, cands)
    assert d.probabilities[0] > 0.95
    # Residual learning: a reward equal to the population's prediction teaches no deviation.
    x = oo([overdue])[0]
    state = policy.update(policy.initial_state(), with_prior, cands[0], float(x @ weights) - 2.0)
    delta_mu = unpack(state["delta"]["mu"])
    assert delta_mu[OO_NAMES.index("is_overdue")] < 0  # this person likes overdue less


def test_oo_pooled_update_is_the_ridge_solution() -> None:
    policy = OOPolicy(seed=0)
    pooled = policy.pooled_initial()
    rows = [({"is_overdue": 1.0}, 1.0), ({"due_today": 1.0}, -0.3), ({"priority": 4.0}, 0.6)]
    after = policy.pooled_update(pooled, rows)
    X = oo([r for r, _ in rows])
    A = POP_LAMBDA * np.eye(len(OO_NAMES)) + X.T @ X
    b = POP_LAMBDA * expert_mean() + X.T @ np.array([1.0, -0.3, 0.6])
    np.testing.assert_allclose(unpack(after["mu"]), np.linalg.solve(A, b), atol=1e-12)
    assert after["n"] == 3
    assert policy.pooled_update(after, []) is after
