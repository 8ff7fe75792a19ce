"""IPS, SNIPS and DR on a tiny log equal the values computed by hand; intervals and replay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from backend.simulation.ope import (
    OpeInput,
    assign_folds,
    cross_fitted_models,
    dr,
    effective_sample_size,
    estimate,
    influence,
    ips,
    snips,
)
from backend.simulation.replay import (
    LoggedDecision,
    PreparedLog,
    ope_input,
    replay,
    true_value,
)

# Three logged decisions. By hand, with w = π/p = (2, 2, 0):
#   IPS   = (2·1.0 + 2·(−0.3) + 0·0.1) / 3           = 1.4 / 3
#   SNIPS = (2·1.0 + 2·(−0.3) + 0·0.1) / (2 + 2 + 0) = 1.4 / 4
#   DR    = mean(0.6 + 2·(1.0 − 0.8), 0.1 + 2·(−0.3 + 0.2), 0.3 + 0·(0.1 − 0.2))
#         = (1.0 − 0.1 + 0.3) / 3                     = 1.2 / 3
TINY = OpeInput(
    reward=np.array([1.0, -0.3, 0.1]),
    logging=np.array([0.5, 0.25, 0.5]),
    target=np.array([1.0, 0.5, 0.0]),
    direct=np.array([0.6, 0.1, 0.3]),
    q_served=np.array([0.8, -0.2, 0.2]),
)


def test_estimators_equal_hand_computed_values() -> None:
    assert ips(TINY) == pytest.approx(1.4 / 3)
    assert snips(TINY) == pytest.approx(1.4 / 4)
    assert dr(TINY) == pytest.approx(1.2 / 3)
    assert effective_sample_size(TINY) == pytest.approx(16 / 8)


def test_switch_and_clipped_dr_equal_hand_computed_values() -> None:
    # τ = 1.5: both weights of 2 exceed it. Switch-DR keeps only the model there,
    # clipped-DR corrects with weight 1.5 instead of 2:
    #   switch  = mean(0.6, 0.1, 0.3)                                     = 1.0 / 3
    #   clipped = mean(0.6 + 1.5·0.2, 0.1 + 1.5·(−0.1), 0.3)              = 1.15 / 3
    assert influence(TINY, "switch-dr", tau=1.5).mean() == pytest.approx(1.0 / 3)
    assert influence(TINY, "clipped-dr", tau=1.5).mean() == pytest.approx(1.15 / 3)
    # Below every weight the threshold changes nothing: both are DR.
    assert influence(TINY, "switch-dr", tau=5).mean() == pytest.approx(dr(TINY))
    assert influence(TINY, "clipped-dr", tau=5).mean() == pytest.approx(dr(TINY))


def test_normal_intervals_come_from_the_influence_terms() -> None:
    # IPS terms w·r = (2, −0.6, 0): mean 1.4/3, sample sd √(Σ(φ − φ̄)² / 2), half-width 1.96·sd/√3.
    phi = np.array([2.0, -0.6, 0.0])
    half = 1.959964 * float(np.sqrt(((phi - phi.mean()) ** 2).sum() / 2)) / np.sqrt(3)
    e = estimate(TINY)["ips"]
    assert e.value == pytest.approx(1.4 / 3)
    assert (e.low, e.high) == pytest.approx((1.4 / 3 - half, 1.4 / 3 + half))
    # SNIPS's linearised terms average to the ratio itself.
    assert influence(TINY, "snips").mean() == pytest.approx(1.4 / 4)


def test_cross_fitting_predicts_each_fold_with_a_model_that_never_saw_it() -> None:
    users = ["a", "b"] * 10
    folds = assign_folds(users, folds=5)
    assert folds.tolist()[:4] == [0, 0, 1, 1]  # the k-th decision of each person: fold k mod 5
    rng = np.random.default_rng(0)
    served = np.column_stack([np.ones(20), rng.uniform(size=20)])
    rewards = rng.uniform(-1, 1, size=20)
    user_arr = np.array(users)
    before = cross_fitted_models(served, rewards, user_arr, folds)
    assert set(before) == {(k, u) for k in range(5) for u in ("a", "b")}
    # Change the rewards of fold 2 only: fold 2's models stay, every other fold's move.
    changed = rewards.copy()
    changed[folds == 2] += 5.0
    after = cross_fitted_models(served, changed, user_arr, folds)
    for (k, u), weights in before.items():
        moved = not np.allclose(weights, after[(k, u)])
        assert moved == (k != 2), (k, u)


def test_snips_of_a_target_that_never_agrees_is_zero_not_nan() -> None:
    never = OpeInput(TINY.reward, TINY.logging, np.zeros(3), TINY.direct, TINY.q_served)
    assert snips(never) == 0.0
    assert ips(never) == 0.0
    assert dr(never) == pytest.approx(1.0 / 3)  # the reward model alone


def test_bootstrap_intervals_bracket_the_point_estimates_and_are_reproducible() -> None:
    rng = np.random.default_rng(1)
    n = 400
    x = OpeInput(
        reward=rng.choice([-1.0, 0.1, 1.0], size=n),
        logging=np.full(n, 0.25),
        target=rng.choice([0.0, 0.5, 1.0], size=n),
        direct=rng.uniform(-0.2, 0.4, size=n),
        q_served=rng.uniform(-0.2, 0.4, size=n),
    )
    first = estimate(x, seed=3, bootstrap=200)
    assert estimate(x, seed=3, bootstrap=200) == first
    normal = estimate(x)
    for k, e in first.items():
        assert e.low <= e.value <= e.high
        assert e.high - e.low < 1.0
        # Both intervals estimate the same spread.
        width = normal[k].high - normal[k].low
        assert e.high - e.low == pytest.approx(width, rel=0.25)


def _decision(user: str, minutes: int, chosen: int, reward: float) -> LoggedDecision:
    keys = ("due_today", "priority")
    values = np.array([[1.0, 4.0], [0.0, 1.0]])
    return LoggedDecision(
        user=user,
        at=datetime(2026, 3, 2, 9, tzinfo=UTC) + timedelta(minutes=minutes),
        refs=[f"{user}:a", f"{user}:b"],
        keys=keys,
        values=values,
        chosen=chosen,
        propensity=0.5,
        reward=reward,
        expected=np.array([0.5, -0.5]),
    )


def test_ope_input_uses_the_targets_distribution_and_the_reward_model() -> None:
    log = [_decision("u", 0, 0, 1.0), _decision("u", 5, 1, -1.0)]
    prepared = PreparedLog(
        log=log,
        rewards=np.array([1.0, -1.0]),
        logging=np.array([0.5, 0.5]),
        q=[np.array([0.4, -0.2]), np.array([0.4, -0.2])],
    )
    probs = [np.array([0.9, 0.1]), np.array([0.9, 0.1])]
    x = ope_input(prepared, probs)
    assert x.target.tolist() == [0.9, 0.1]
    assert x.direct.tolist() == pytest.approx([0.9 * 0.4 - 0.1 * 0.2] * 2)
    assert x.q_served.tolist() == [0.4, -0.2]
    assert true_value(log, probs) == pytest.approx(0.9 * 0.5 - 0.1 * 0.5)


def test_replaying_random_gives_uniform_and_the_oracle_its_argmax() -> None:
    log = [_decision("u", i, i % 2, 0.1) for i in range(4)]
    assert all(p.tolist() == [0.5, 0.5] for p in replay("random", log))
    assert all(p.tolist() == [1.0, 0.0] for p in replay("oracle", log))


def test_replay_learns_as_a_shadow_would() -> None:
    # Only candidate a is ever rewarded: a learner's probability of a must grow.
    log = [_decision(f"u{i % 3}", i, 0, 1.0) for i in range(60)]
    probs = replay("egreedy-v1", log, seed=0)
    assert probs[0][0] == pytest.approx(0.5)
    assert probs[-1][0] > 0.9
