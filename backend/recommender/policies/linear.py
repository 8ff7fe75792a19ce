"""Bayesian / ridge linear models with rank-one updates: no matrix inversion per decision.

Two forms, both O(d²) per update and per scored candidate:

- `Ridge` keeps the precision A = λI + Σ x xᵀ, b = Σ r x and A⁻¹ by Sherman–Morrison
  (A + x xᵀ)⁻¹ = A⁻¹ − (A⁻¹x)(A⁻¹x)ᵀ / (1 + xᵀA⁻¹x). A⁻¹ is re-symmetrised after each step and
  re-derived from A every `REFRESH_EVERY` updates, so rounding cannot accumulate for ever.
- `SqrtPosterior` keeps a square-root factor S of the covariance (Σ = S Sᵀ = A⁻¹), updated by
  Potter's square-root formula: with w = Sᵀx, s = wᵀw, t = 1/√(1+s), β = (1 − t)/s,
  S ← S − β (S w) wᵀ. Each step multiplies S by the symmetric contraction I − β w wᵀ
  (eigenvalues 1 and t ∈ (0, 1]), so S stays finite and Σ positive semi-definite by
  construction, and Thompson samples are μ + S z: no factorisation at decision time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from backend.recommender.policies.arrays import pack, unpack
from backend.recommender.policies.base import TIE_TOLERANCE

REFRESH_EVERY = 512
"""Sherman–Morrison steps between two re-derivations of A⁻¹ from A (amortised, not per pick)."""


@dataclass
class Ridge:
    """Ridge regression with A⁻¹ kept by Sherman–Morrison (see module docstring)."""

    A: np.ndarray
    A_inv: np.ndarray
    b: np.ndarray
    n: int = 0

    @classmethod
    def fresh(cls, d: int, lam: float = 1.0) -> Ridge:
        """λI prior: weights start at 0 with variance 1/λ."""
        return cls(np.eye(d) * lam, np.eye(d) / lam, np.zeros(d), 0)

    @classmethod
    def load(cls, state: Mapping[str, Any]) -> Ridge:
        """From a stored state."""
        return cls(unpack(state["A"]), unpack(state["A_inv"]), unpack(state["b"]), int(state["n"]))

    def dump(self) -> dict[str, Any]:
        """To a JSON-safe state (θ too, so scoring reads one or two arrays, not four)."""
        return {
            "A": pack(self.A),
            "A_inv": pack(self.A_inv),
            "b": pack(self.b),
            "theta": pack(self.theta),
            "n": self.n,
        }

    @classmethod
    def scoring(
        cls, state: Mapping[str, Any], d: int, lam: float, with_inverse: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """(θ, A⁻¹) for scoring, unpacking only what is needed (A⁻¹ is empty unless asked).

        A state that is absent or malformed scores as a fresh model.
        """
        try:
            theta = unpack(state["theta"])
            inverse = unpack(state["A_inv"]) if with_inverse else np.empty((0, 0))
        except (KeyError, TypeError, ValueError):
            fresh = cls.fresh(d, lam)
            return fresh.theta, fresh.A_inv
        if theta.shape != (d,) or (with_inverse and inverse.shape != (d, d)):
            fresh = cls.fresh(d, lam)
            return fresh.theta, fresh.A_inv
        return theta, inverse

    @property
    def theta(self) -> np.ndarray:
        """The ridge estimate A⁻¹ b."""
        return np.asarray(self.A_inv @ self.b)

    def widths(self, X: np.ndarray) -> np.ndarray:
        """√(xᵀ A⁻¹ x) per row of X (clipped at 0 against rounding)."""
        quad = np.einsum("ij,jk,ik->i", X, self.A_inv, X)
        return np.asarray(np.sqrt(np.maximum(quad, 0.0)))

    def update(self, x: np.ndarray, reward: float) -> None:
        """Fold in one observation."""
        u = self.A_inv @ x
        denom = 1.0 + float(x @ u)
        self.A_inv = self.A_inv - np.outer(u, u) / denom
        self.A_inv = (self.A_inv + self.A_inv.T) / 2
        self.A = self.A + np.outer(x, x)
        self.b = self.b + reward * x
        self.n += 1
        if self.n % REFRESH_EVERY == 0 or not np.all(np.isfinite(self.A_inv)):
            # Amortised re-derivation (once per REFRESH_EVERY updates, never per decision).
            self.A_inv = np.linalg.inv(self.A)
            self.A_inv = (self.A_inv + self.A_inv.T) / 2


@dataclass
class SqrtPosterior:
    """Gaussian posterior N(μ, Σ) of linear weights with Σ = S Sᵀ (Potter updates)."""

    S: np.ndarray
    b: np.ndarray
    mu: np.ndarray
    n: int = 0

    @classmethod
    def fresh(cls, d: int, lam: float = 1.0) -> SqrtPosterior:
        """Prior N(0, I/λ)."""
        return cls(np.eye(d) / np.sqrt(lam), np.zeros(d), np.zeros(d), 0)

    @classmethod
    def load(cls, state: Mapping[str, Any]) -> SqrtPosterior:
        """From a stored state."""
        return cls(unpack(state["S"]), unpack(state["b"]), unpack(state["mu"]), int(state["n"]))

    def dump(self) -> dict[str, Any]:
        """To a JSON-safe state."""
        return {"S": pack(self.S), "b": pack(self.b), "mu": pack(self.mu), "n": self.n}

    @property
    def covariance(self) -> np.ndarray:
        """Σ = S Sᵀ (tests and diagnostics; never needed to pick)."""
        return np.asarray(self.S @ self.S.T)

    def widths(self, X: np.ndarray) -> np.ndarray:
        """√(xᵀ Σ x) = ‖Sᵀx‖ per row of X."""
        return np.asarray(np.linalg.norm(X @ self.S, axis=1))

    def update(self, x: np.ndarray, target: float) -> None:
        """Fold in one observation of `target` at `x` (unit noise variance)."""
        w = self.S.T @ x
        s = float(w @ w)
        if s > 1e-18:  # x = 0 carries no information; β's 0/0 limit would change nothing
            t = 1.0 / np.sqrt(1.0 + s)
            beta = (1.0 - t) / s
            self.S = self.S - beta * np.outer(self.S @ w, w)
        self.b = self.b + target * x
        self.mu = self.S @ (self.S.T @ self.b)
        self.n += 1

    def perturbations(self, rng: np.random.Generator, draws: int, scale: float) -> np.ndarray:
        """`draws` vectors from N(0, scale² Σ), as the columns of a d × draws matrix.

        Added to a mean they are Thompson samples (the mean is μ, or μ plus a population mean).
        """
        z = rng.standard_normal((self.S.shape[0], draws))
        return np.asarray(scale * (self.S @ z))


def argmax_frequencies(scores: np.ndarray) -> np.ndarray:
    """For an n × M matrix of scores (M sampled models), how often each row is the best.

    Ties within a column share that column's vote, so identical candidates get equal odds.
    """
    return argmax_frequencies_by_draw(np.array(scores.T, order="C"))


def argmax_frequencies_by_draw(sampled: np.ndarray) -> np.ndarray:
    """`argmax_frequencies` of an M × n matrix (one sampled model per row), used as scratch.

    Rows are contiguous, so each model's argmax runs along memory. Without a tie (the usual
    case: the runner-up of every model is further than TIE_TOLERANCE from its best) the votes are
    counted, whole votes over M; only a tie builds the n × M matrix of shared votes.
    """
    draws, n = sampled.shape
    models = np.arange(draws)
    top = sampled.argmax(axis=1)
    best = sampled[models, top]
    sampled[models, top] = -np.inf
    runner_up = sampled.max(axis=1)
    sampled[models, top] = best
    if not bool((runner_up >= best - TIE_TOLERANCE).any()):
        return np.asarray(np.bincount(top, minlength=n) / draws)
    tied = sampled >= best[:, None] - TIE_TOLERANCE
    votes = tied / tied.sum(axis=1, keepdims=True)
    return np.asarray(votes.mean(axis=0))
