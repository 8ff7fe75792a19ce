"""Rank-one updates against hand-computed posteriors, and their numerical robustness."""

from __future__ import annotations

import numpy as np
import pytest

from backend.recommender.policies.linear import Ridge, SqrtPosterior, argmax_frequencies

X1, X2, X3 = np.array([1.0, 0.0]), np.array([1.0, 1.0]), np.array([0.0, 1.0])
R1, R2, R3 = 1.0, 0.0, 1.0
# By hand, λ = 1:
#   after x1: A = [[2, 0], [0, 1]]          b = [1, 0]   μ = [1/2, 0]      Σ = diag(1/2, 1)
#   after x2: A = [[3, 1], [1, 2]]  det 5   b = [1, 0]   μ = [2/5, −1/5]   Σ = [[2, −1], [−1, 3]]/5
#   after x3: A = [[3, 1], [1, 3]]  det 8   b = [1, 1]   μ = [1/4, 1/4]    Σ = [[3, −1], [−1, 3]]/8
STEPS = [
    ((X1, R1), [[2, 0], [0, 1]], [1, 0], [0.5, 0.0], [[0.5, 0], [0, 1]]),
    ((X2, R2), [[3, 1], [1, 2]], [1, 0], [0.4, -0.2], [[0.4, -0.2], [-0.2, 0.6]]),
    ((X3, R3), [[3, 1], [1, 3]], [1, 1], [0.25, 0.25], [[0.375, -0.125], [-0.125, 0.375]]),
]


def test_ridge_sherman_morrison_matches_hand_computation() -> None:
    model = Ridge.fresh(2, lam=1.0)
    for (x, r), A, b, theta, cov in STEPS:
        model.update(x, r)
        np.testing.assert_allclose(model.A, A, atol=1e-12)
        np.testing.assert_allclose(model.b, b, atol=1e-12)
        np.testing.assert_allclose(model.theta, theta, atol=1e-12)
        np.testing.assert_allclose(model.A_inv, cov, atol=1e-12)
    assert model.n == 3


def test_potter_square_root_matches_hand_computation() -> None:
    model = SqrtPosterior.fresh(2, lam=1.0)
    for (x, r), _A, b, mean, cov in STEPS:
        model.update(x, r)
        np.testing.assert_allclose(model.b, b, atol=1e-12)
        np.testing.assert_allclose(model.mu, mean, atol=1e-12)
        np.testing.assert_allclose(model.covariance, cov, atol=1e-12)


def test_state_round_trip_is_exact() -> None:
    ridge, sqrt = Ridge.fresh(3), SqrtPosterior.fresh(3)
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = rng.normal(size=3)
        ridge.update(x, float(rng.normal()))
        sqrt.update(x, float(rng.normal()))
    again, again_sqrt = Ridge.load(ridge.dump()), SqrtPosterior.load(sqrt.dump())
    for a, b in ((again.A, ridge.A), (again.A_inv, ridge.A_inv), (again_sqrt.S, sqrt.S)):
        assert np.array_equal(a, b)
    assert again.n == ridge.n == again_sqrt.n == 20


def test_no_drift_over_many_updates() -> None:
    rng = np.random.default_rng(1)
    d = 15
    ridge, sqrt = Ridge.fresh(d), SqrtPosterior.fresh(d)
    for _ in range(5_000):
        x = np.clip(rng.normal(size=d), -4, 4)
        r = float(np.clip(rng.normal(), -1, 1))
        ridge.update(x, r)
        sqrt.update(x, r)
    exact = np.linalg.inv(ridge.A)
    scale = np.abs(exact).max()
    assert np.abs(ridge.A_inv - exact).max() / scale < 1e-8
    assert np.abs(sqrt.covariance - exact).max() / scale < 1e-8
    np.testing.assert_allclose(sqrt.mu, exact @ ridge.b, rtol=1e-6, atol=1e-9)


def test_zero_vector_changes_nothing_and_widths_are_finite() -> None:
    model = SqrtPosterior.fresh(3)
    model.update(np.zeros(3), 1.0)
    np.testing.assert_array_equal(model.S, np.eye(3))
    widths = Ridge.fresh(3).widths(np.array([[1e6, 0, 0], [0, 0, 0]]))
    assert np.all(np.isfinite(widths))


def test_argmax_frequencies_split_ties() -> None:
    scores = np.array([[1.0, 0.0, 2.0], [1.0, 3.0, 2.0], [0.0, 0.0, 0.0]])
    # column 0: rows 0 and 1 tie; column 1: row 1; column 2: rows 0 and 1 tie.
    np.testing.assert_allclose(argmax_frequencies(scores), [1 / 3, 2 / 3, 0.0])
    assert argmax_frequencies(scores).sum() == pytest.approx(1.0)
