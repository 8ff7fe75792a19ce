"""Logged decisions, and replaying any registered policy over them for off-policy evaluation.

A decision log row (the service's served_tip, or the simulator's log) has the context (time and
the raw features of every candidate, logged when it was served), the candidate set, the chosen
candidate, its propensity and the reward. Replaying a policy walks the log in order, as a
shadow policy would have run: at each decision it scores the logged candidates with the state it
has learned so far (its full pick distribution πᵢ), then learns from the logged reward of the
served candidate. Pooled policies refresh their population model every `pool_every` decisions,
from the log's own past, as the worker's job does — never from the future.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, cast

import numpy as np

from backend.contracts.candidate import Candidate
from backend.recommender.features import Context
from backend.recommender.policies import Policy, PooledPolicy, UserState, get_policy
from backend.simulation.ope import OpeInput, assign_folds, cross_fitted_models, design

ORACLE_ID = "oracle"


@dataclass
class LoggedDecision:
    """One logged decision (see module docstring)."""

    user: str
    at: datetime
    refs: list[str]
    keys: tuple[str, ...]
    values: np.ndarray
    """Raw features: one row per candidate, one column per key."""
    chosen: int
    propensity: float
    reward: float
    policy_id: str = ""
    expected: np.ndarray | None = field(default=None, repr=False)
    """The true expected reward of every candidate (simulated logs only)."""

    @cached_property
    def rows(self) -> list[dict[str, float]]:
        """Raw features per candidate, as dicts (what policies read)."""
        return [dict(zip(self.keys, map(float, v), strict=True)) for v in self.values]

    def candidates(self) -> list[Candidate]:
        """The candidate set (policies read their features from the context)."""
        return [Candidate(item_ref=r, source="log", kind="task", content="") for r in self.refs]

    def context(self, priors: dict[str, UserState]) -> Context:
        """The decision's context with its logged features."""
        return Context(
            now=self.at, features=dict(zip(self.refs, self.rows, strict=True)), priors=priors
        )


def fresh_policy(policy_id: str, seed: int) -> Policy:
    """A new instance of a registered policy with its own random stream."""
    cls: Any = type(get_policy(policy_id))
    try:
        return cast(Policy, cls(seed=seed))
    except TypeError:  # a policy without a seed argument: its own default stream
        return cast(Policy, cls())


def policy_seed(seed: int, policy_id: str) -> int:
    """A policy's random stream in a run, stable across runs with the same seed."""
    return int(zlib.crc32(f"{seed}:{policy_id}".encode()))


def _one_hot(n: int, index: int) -> np.ndarray:
    p = np.zeros(n)
    p[index] = 1.0
    return p


def replay(
    policy_id: str,
    log: Sequence[LoggedDecision],
    seed: int = 0,
    pool_every: int = 100,
    on_step: Callable[[int], None] | None = None,
) -> list[np.ndarray]:
    """The target policy's pick distribution at every logged decision (see module docstring).

    `oracle` (simulated logs only) picks the best expected reward.
    """
    if policy_id == ORACLE_ID:
        out: list[np.ndarray] = []
        for d in log:
            if d.expected is None:
                raise ValueError("the oracle needs a simulated log (expected rewards)")
            out.append(_one_hot(len(d.refs), int(np.argmax(d.expected))))
        return out
    policy = fresh_policy(policy_id, policy_seed(seed, policy_id))
    pooled_policy = policy if isinstance(policy, PooledPolicy) else None
    pooled = pooled_policy.pooled_initial() if pooled_policy else None
    pool_rows: list[tuple[dict[str, float], float]] = []
    states: dict[str, UserState] = {}
    probs: list[np.ndarray] = []
    for i, d in enumerate(log):
        priors = {policy.id: pooled} if pooled is not None else {}
        context, cands = d.context(priors), d.candidates()
        state = states.get(d.user)
        if state is None:
            state = policy.initial_state()
        decision = policy.score(state, context, cands)
        p = np.asarray(decision.probabilities, dtype=float)
        probs.append(p if p.shape == (len(cands),) else _one_hot(len(cands), decision.choice))
        states[d.user] = policy.update(state, context, cands[d.chosen], d.reward)
        if pooled_policy is not None:
            pool_rows.append((d.rows[d.chosen], d.reward))
            if len(pool_rows) >= pool_every:
                pooled = pooled_policy.pooled_update(cast(UserState, pooled), pool_rows)
                pool_rows = []
        if on_step is not None:
            on_step(i)
    return probs


@dataclass
class PreparedLog:
    """What every target's estimate shares: reward-model predictions for every candidate."""

    log: Sequence[LoggedDecision]
    rewards: np.ndarray
    logging: np.ndarray
    q: list[np.ndarray]
    """Cross-fitted q̂ of every candidate of every decision."""


def prepare(log: Sequence[LoggedDecision]) -> PreparedLog:
    """Fit the (cross-fitted) reward model once for a log."""
    if not log:
        raise ValueError("no logged decisions")
    X = [design(d.rows) for d in log]
    served = np.vstack([x[d.chosen] for x, d in zip(X, log, strict=True)])
    rewards = np.array([d.reward for d in log])
    users = np.array([d.user for d in log])
    folds = assign_folds([d.user for d in log])
    models = cross_fitted_models(served, rewards, users, folds)
    q = [x @ models[(int(k), d.user)] for x, k, d in zip(X, folds, log, strict=True)]
    logging = np.array([d.propensity for d in log])
    return PreparedLog(log, rewards, logging, q)


def ope_input(prepared: PreparedLog, probs: Sequence[np.ndarray]) -> OpeInput:
    """The estimators' arrays for one target's pick distributions."""
    log = prepared.log
    chosen = [d.chosen for d in log]
    target = np.array([p[c] for p, c in zip(probs, chosen, strict=True)])
    direct = np.array([float(p @ q) for p, q in zip(probs, prepared.q, strict=True)])
    q_served = np.array([q[c] for q, c in zip(prepared.q, chosen, strict=True)])
    return OpeInput(prepared.rewards, prepared.logging, target, direct, q_served)


def true_value(log: Sequence[LoggedDecision], probs: Sequence[np.ndarray]) -> float:
    """Σₐ πᵢ(a) μᵢ(a) averaged: what the target would have earned at these moments (sim only)."""
    values = []
    for d, p in zip(log, probs, strict=True):
        if d.expected is None:
            raise ValueError("true values need a simulated log")
        values.append(float(p @ d.expected))
    return float(np.mean(values))
