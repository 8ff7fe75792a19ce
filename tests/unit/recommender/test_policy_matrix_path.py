"""oo-v1 and oo-v2 from a feature table decide as the previous per-candidate computation did.

The references below are the scoring code as it was before the feature table: the OO matrix
from each candidate's mapping, the n × draws sample matrix, the argmax frequencies as an average
of shared votes, and (oo-v2) every candidate's cells named on their own. Same seed, same state:
the same pick, and scores and propensities within 1e-9, on random candidate lists with repeated
projects, exact ties, partial mappings, and candidates scored through a table built for a longer
list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from backend.contracts.json import json_object
from backend.recommender.feature_table import FeatureTable
from backend.recommender.features import Candidate, Context
from backend.recommender.policies import OOPolicy, OOv2Policy
from backend.recommender.policies.base import TIE_TOLERANCE, Decision, UserState, draw, raw_rows
from backend.recommender.policies.cell_groups import cell_matrix, group
from backend.recommender.policies.linear import argmax_frequencies
from backend.recommender.policies.person_cells import PersonCells, cells_of
from backend.recommender.policies.vectors import oo, oo_table

NOW = datetime(2026, 3, 27, 18, 30, tzinfo=UTC)  # a Friday evening, in a month's last days
PROJECTS = ("Home", "Work", "Errands", "", "Side")


def reference_frequencies(scores: np.ndarray) -> np.ndarray:
    best = scores >= scores.max(axis=0, keepdims=True) - TIE_TOLERANCE
    votes = best / best.sum(axis=0, keepdims=True)
    return np.asarray(votes.mean(axis=1))


def reference_v1(
    policy: OOPolicy, state: UserState, context: Context, candidates: Sequence[Candidate]
) -> tuple[int, np.ndarray, np.ndarray]:
    X = oo(raw_rows(context, candidates))
    delta = policy._delta(state)
    mean = policy.population_mean(context) + delta.mu
    thetas = mean[:, None] + delta.perturbations(policy._rng, policy.draws, policy.scale)
    n = X.shape[0]
    probs = (1.0 - policy.epsilon) * reference_frequencies(X @ thetas) + policy.epsilon / n
    return draw(policy._rng, probs), probs, X @ mean


def reference_v2(
    policy: OOv2Policy, state: UserState, context: Context, candidates: Sequence[Candidate]
) -> tuple[int, np.ndarray, np.ndarray]:
    X = oo(raw_rows(context, candidates))
    delta = policy._delta(state)
    mean = policy.population_mean(context) + delta.mu
    table = PersonCells(json_object(state.get("cells")))
    per_candidate = [cells_of(c, context.local) for c in candidates]
    keys = sorted({k for ks in per_candidate for k in ks})
    index = {k: i for i, k in enumerate(keys)}
    C = np.zeros((len(candidates), len(keys)))
    for row, ks in enumerate(per_candidate):
        C[row, [index[k] for k in ks]] = 1.0
    effect, variance = table.effects(keys)
    z = policy._rng.standard_normal((len(keys), policy.draws))
    cell_draws = effect[:, None] + policy.scale * np.sqrt(variance)[:, None] * z
    thetas = mean[:, None] + delta.perturbations(policy._rng, policy.draws, policy.scale)
    sampled = X @ thetas + C @ cell_draws
    n = len(candidates)
    probs = (1.0 - policy.epsilon) * reference_frequencies(sampled) + policy.epsilon / n
    return draw(policy._rng, probs), probs, X @ mean + C @ effect


def random_candidates(rng: np.random.Generator, n: int, step: int) -> list[Candidate]:
    out = []
    for i in range(n):
        out.append(
            Candidate(
                item_ref=f"{step}:{i}",
                source="t",
                kind=str(rng.choice(["task", "task", "advice", "insight", "reminder"])),
                content="",
                project=str(rng.choice(PROJECTS)),
                priority=int(rng.integers(1, 5)),
                duration_min=None if rng.random() < 0.3 else int(rng.choice([5, 20, 45])),
            )
        )
    return out


def random_features(rng: np.random.Generator, candidate: Candidate) -> dict[str, float]:
    overdue = float(rng.random() < 0.3)
    feats = {
        "is_overdue": overdue,
        "due_today": float(rng.random() < 0.1),
        "due_soon": float(rng.random() < 0.1),
        "days_overdue": overdue * float(rng.integers(1, 20)),
        "task_age_days": float(rng.exponential(30)),
        "priority": float(candidate.priority),
        "is_recurring": float(rng.random() < 0.2),
        "kind_advice": float(candidate.kind in ("advice", "insight")),
        "kind_insight": float(candidate.kind == "insight"),
        "kind_reminder": float(candidate.kind == "reminder"),
        "ignored_count": float(rng.integers(0, 3)),
        "hours_since_served": float(rng.uniform(0, 720)),
        "time_fit": float(rng.uniform(-1, 1)),
        "project_time_fit": float(rng.uniform(-1, 1)),
        "project_affinity": float(rng.uniform(-1, 1)),
        "habit_project": float(rng.uniform(-1, 1)),
        "habit_time": float(rng.uniform(-1, 1)),
        "habit_late": overdue * float(rng.uniform(-1, 1)),
    }
    if rng.random() < 0.05:  # a row logged before a feature existed: its default fills in
        del feats["habit_time"]
    return feats


def decisions(rng: np.random.Generator, count: int) -> list[tuple[list[Candidate], Context]]:
    """Candidate lists with their contexts: a table for the same list, a longer list, or none."""
    out = []
    for step in range(count):
        n = int(rng.choice([1, 2, 5, 40, 300]))
        cands = random_candidates(rng, n, step)
        feats = {c.item_ref: random_features(rng, c) for c in cands}
        if n > 1 and rng.random() < 0.3:  # identical twins: exact ties in every sampled model
            twin = replace(cands[0], item_ref=f"{step}:twin")
            cands.append(twin)
            feats[twin.item_ref] = dict(feats[cands[0].item_ref])
        now = NOW + timedelta(hours=int(rng.integers(0, 240)))
        ctx = Context(now=now, features=feats)
        way = rng.random()
        if way < 0.5:
            ctx = replace(ctx, table=FeatureTable.build(cands, feats))
        elif way < 0.7 and n > 1:  # the table is of the whole list; a part of it is scored
            ctx = replace(ctx, table=FeatureTable.build(cands, feats))
            keep = sorted(rng.choice(len(cands), size=len(cands) // 2 + 1, replace=False))
            cands = [cands[i] for i in keep]
        out.append((cands, ctx))
    return out


def assert_same(d: Decision, ref: tuple[int, np.ndarray, np.ndarray]) -> None:
    choice, probs, means = ref
    assert d.choice == choice
    assert abs(d.propensity - float(probs[choice])) <= 1e-9
    np.testing.assert_allclose(d.probabilities, probs, rtol=0, atol=1e-9)
    np.testing.assert_allclose(d.scores, means, rtol=0, atol=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_oo_v1_from_a_table_decides_as_before(seed: int) -> None:
    rng = np.random.default_rng(seed)
    fast, reference = OOPolicy(seed=seed), OOPolicy(seed=seed)
    state = fast.initial_state()
    for cands, ctx in decisions(rng, 120):
        d = fast.score(state, ctx, cands)
        assert_same(d, reference_v1(reference, state, ctx, cands))
        reward = float(rng.uniform(-1, 1))
        after = fast.update(state, ctx, cands[d.choice], reward)
        plain = replace(ctx, table=None)
        assert after == reference.update(state, plain, cands[d.choice], reward)
        state = after


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_oo_v2_from_a_table_decides_as_before(seed: int) -> None:
    rng = np.random.default_rng(seed)
    fast, reference = OOv2Policy(seed=seed), OOv2Policy(seed=seed)
    state = fast.initial_state()
    for cands, ctx in decisions(rng, 120):
        d = fast.score(state, ctx, cands)
        assert_same(d, reference_v2(reference, state, ctx, cands))
        reward = float(rng.uniform(-1, 1))
        after = fast.update(state, ctx, cands[d.choice], reward)
        plain = replace(ctx, table=None)
        assert after == reference.update(state, plain, cands[d.choice], reward)
        state = after


def test_argmax_frequencies_count_votes_as_the_shared_average_did() -> None:
    rng = np.random.default_rng(5)
    for n in (1, 2, 3, 50, 2000):
        for draws in (16, 32, 48):
            scores = rng.standard_normal((n, draws))
            assert np.array_equal(argmax_frequencies(scores), reference_frequencies(scores))
            coarse = np.round(scores, 1)  # many ties
            coarse[0] = coarse[-1]
            np.testing.assert_allclose(
                argmax_frequencies(coarse), reference_frequencies(coarse), rtol=0, atol=1e-12
            )


def test_grouped_cells_are_each_candidates_own_cells() -> None:
    rng = np.random.default_rng(9)
    cands = random_candidates(rng, 400, 0)
    for hours in range(0, 24 * 9, 5):
        local = NOW + timedelta(hours=hours)
        cells = cell_matrix(cands, local, None)
        groups = group(cands)
        for i, c in enumerate(cands):
            row = cells.indicator[groups.codes[i]]
            assert {cells.keys[k] for k in np.flatnonzero(row)} == set(cells_of(c, local))


def test_a_table_reads_absent_keys_as_their_default_and_maps_other_lists() -> None:
    cands = random_candidates(np.random.default_rng(1), 3, 0)
    feats = {cands[0].item_ref: {"priority": 4.0}, cands[1].item_ref: {}, cands[2].item_ref: {}}
    feats[cands[2].item_ref] = {"priority": float("nan"), "task_age_days": 3.0}
    table = FeatureTable.build(cands, feats)
    assert np.array_equal(oo([feats[c.item_ref] for c in cands]), oo_table(table))
    assert table.rows_of(cands) == slice(None)
    rows = table.rows_of([cands[2], cands[0]])
    assert isinstance(rows, np.ndarray)
    assert rows.tolist() == [2, 0]
    stranger = replace(cands[0], item_ref="elsewhere")
    assert table.rows_of([cands[1], stranger]) is None


def test_a_key_only_later_mappings_have_is_read_where_present() -> None:
    cands = random_candidates(np.random.default_rng(2), 3, 0)
    feats = {c.item_ref: {"priority": 2.0, "task_age_days": 1.0} for c in cands}
    feats[cands[2].item_ref] = {"priority": 2.0, "habit_time": 0.5}  # same size, other key
    feats[cands[1].item_ref] = {"priority": None, "task_age_days": 1.0, "due_today": 1.0}  # type: ignore[dict-item]
    table = FeatureTable.build(cands, feats)
    assert np.array_equal(oo([feats[c.item_ref] for c in cands]), oo_table(table))
