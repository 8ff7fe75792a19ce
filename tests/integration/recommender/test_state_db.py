"""Policy state round-trips through the database (run on SQLite and on PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np

from backend.db import write_transaction
from backend.recommender.features import Candidate, Context
from backend.recommender.policies import Policy, all_policies
from backend.recommender.state import (
    load_state,
    load_states,
    save_states,
    state_for,
    stored_states,
)
from backend.recommender.tables import PolicyState
from tests.support.fixtures import make_person

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def stream(n: int = 5) -> tuple[list[Candidate], Context]:
    rng = np.random.default_rng(3)
    cands = [Candidate(f"demo:{i}", "demo", "task", f"t{i}") for i in range(n)]
    feats = {
        c.item_ref: {
            "is_overdue": float(rng.random() < 0.5),
            "priority": float(rng.integers(1, 5)),
            "task_age_days": float(rng.exponential(10)),
            "ignored_count": float(rng.integers(0, 3)),
        }
        for c in cands
    }
    return cands, Context(now=NOW, features=feats)


def fresh(policy: Policy, seed: int) -> Policy:
    clone: Policy = type(policy)(seed=seed)  # type: ignore[call-arg]
    return clone


async def test_every_policy_state_round_trips() -> None:
    person = await make_person(tasks=False)
    cands, ctx = stream()
    learned = {}
    for policy in all_policies():
        state = policy.initial_state()
        for i in range(7):
            state = policy.update(state, ctx, cands[i % len(cands)], (-1.0, 0.1, 1.0)[i % 3])
        learned[policy.id] = (policy, state)
    async with write_transaction():
        await save_states(person.user_id, learned, await stored_states(person.user_id))

    loaded = await load_states(person.user_id, all_policies())
    for policy in all_policies():
        assert json.dumps(loaded[policy.id], sort_keys=True) == json.dumps(
            learned[policy.id][1], sort_keys=True
        )
        # Same state + same seed → same decision, whether the state came from memory or the DB.
        a = fresh(policy, 9).score(learned[policy.id][1], ctx, cands)
        b = fresh(policy, 9).score(loaded[policy.id], ctx, cands)
        assert (a.choice, a.probabilities) == (b.choice, b.probabilities)

    # A second save updates the same rows (one per policy) and counts the update.
    async with write_transaction():
        await save_states(person.user_id, learned, await stored_states(person.user_id))
    rows = await PolicyState.select(PolicyState.policy_id, PolicyState.updates).where(
        PolicyState.user == person.user_id
    )
    assert sorted(r["policy_id"] for r in rows) == sorted(p.id for p in all_policies())
    assert {r["updates"] for r in rows} == {2}


async def test_another_version_starts_fresh_and_is_overwritten() -> None:
    person = await make_person(tasks=False)
    policy = next(p for p in all_policies() if p.id == "linucb-v1")
    cands, ctx = stream()
    state = policy.update(policy.initial_state(), ctx, cands[0], 1.0)
    async with write_transaction():
        await save_states(person.user_id, {policy.id: (policy, state)}, {})
    await PolicyState.update({PolicyState.policy_version: "0-old"}).where(
        PolicyState.user == person.user_id
    )
    assert await load_state(person.user_id, policy) == policy.initial_state()
    stored = await stored_states(person.user_id)
    assert state_for(policy, stored) == policy.initial_state()
    async with write_transaction():
        await save_states(person.user_id, {policy.id: (policy, state)}, stored)
    row = await PolicyState.select().where(PolicyState.user == person.user_id).first()
    assert row is not None
    assert (row["policy_version"], row["updates"]) == (policy.version, 1)
    assert await load_state(person.user_id, policy) == state
