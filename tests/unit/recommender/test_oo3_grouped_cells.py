"""oo-v3 with its cells gathered per group (and read from the feature table) decides as the
per-cell indicator matrix did: same seed and state, the same pick, scores and propensities within
1e-9, on lists with repeated projects, priorities, lengths and kinds, after some learning."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from backend.contracts.json import json_object
from backend.recommender.feature_table import FeatureTable
from backend.recommender.features import Candidate, Context, candidate_features
from backend.recommender.policies import OOv3Policy
from backend.recommender.policies.base import UserState, draw
from backend.recommender.policies.linear import argmax_frequencies
from backend.recommender.policies.oo3 import NOISE
from backend.recommender.policies.person_cells import PersonCells, cells_of
from backend.recommender.policies.person_model import Values, load_deviation
from backend.recommender.reward import HELPFUL_REWARD, TRUE_REWARD

NOW = datetime(2026, 3, 27, 18, 30, tzinfo=UTC)


def _cell_matrix(cands: list[Candidate], context: Context) -> tuple[list[str], np.ndarray]:
    """The n × cells indicator matrix, one column per distinct cell, built per candidate."""
    per_row = [cells_of(c, context.local) for c in cands]
    keys = sorted({k for ks in per_row for k in ks})
    index = {k: j for j, k in enumerate(keys)}
    C = np.zeros((len(cands), len(keys)))
    for row, ks in enumerate(per_row):
        C[row, [index[k] for k in ks]] = 1.0
    return keys, C


def reference(
    policy: OOv3Policy, state: UserState, context: Context, cands: list[Candidate]
) -> tuple[int, np.ndarray, np.ndarray]:
    """oo-v3's score as it was: gains per candidate, the n × cells matrix C."""
    X = policy.features(context, cands)
    delta = load_deviation(state.get("delta"), policy._precision)
    mean = policy.population_mean(context) + delta.mu
    values = Values(state.get("values"))
    done = {"advice": HELPFUL_REWARD, "insight": TRUE_REWARD}
    gain = np.array([done.get(c.kind, values.done) - values.not_done for c in cands])
    spread = policy.scale * np.sqrt(NOISE)
    p_draws = X @ (mean[:, None] + delta.perturbations(policy._rng, policy.draws, spread))
    p_mean = X @ mean
    table = PersonCells(json_object(state.get("cells")))
    keys, C = _cell_matrix(cands, context)
    effect, variance = table.effects(keys)
    z = policy._rng.standard_normal((len(keys), policy.draws))
    p_draws += C @ (effect[:, None] + policy.scale * np.sqrt(variance)[:, None] * z)
    p_mean = p_mean + C @ effect
    probs = (1.0 - policy.epsilon) * argmax_frequencies(gain[:, None] * p_draws)
    probs += policy.epsilon / len(cands)
    return draw(policy._rng, probs), probs, values.not_done + gain * p_mean


def _candidates(rng: random.Random, n: int) -> list[Candidate]:
    return [
        Candidate(
            item_ref=f"t{i}",
            source="demo",
            kind=rng.choice(["task", "task", "advice", "insight", "reminder"]),
            content="x",
            project=rng.choice(["Home", "Work", "", "Side"]),
            priority=rng.randint(1, 4),
            due_date=(NOW + timedelta(days=rng.randint(-5, 5))).date(),
            added_at=NOW - timedelta(days=rng.uniform(0, 40)),
            duration_min=rng.choice([None, 5, 30, 90]),
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("seed", range(6))
def test_grouped_cells_decide_as_the_cell_matrix_did(seed: int) -> None:
    rng = random.Random(seed)
    cands = _candidates(rng, rng.choice([3, 40, 300]))
    base = Context(now=NOW)
    raw = {c.item_ref: candidate_features(c, base) for c in cands}
    context = Context(now=NOW, features=raw, table=FeatureTable.build(cands, raw))
    new, old = OOv3Policy(seed=seed), OOv3Policy(seed=seed)
    state = new.initial_state()
    for step in range(30):
        d = new.score(state, context, cands)
        choice, probs, means = reference(old, state, context, cands)
        assert d.choice == choice
        assert np.allclose(d.probabilities, probs, rtol=0, atol=1e-9)
        assert np.allclose(d.scores, means, rtol=0, atol=1e-9)
        state = new.update(state, context, cands[d.choice], (-1.0, 0.3, 1.0)[step % 3])
