"""Per-user policy state in the database, versioned by policy id and version.

A state of another version than the policy's is ignored (the user starts fresh) and overwritten
on the next save: bumping a policy's version resets what it learned, by design, because a new
version may read its arrays differently. All of a user's states are read in one query and
written in the reaction's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from piccolo.custom_types import Combinable

from backend.audit import record
from backend.contracts.json import json_object
from backend.db import Prepared, engine, json_value, write_transaction
from backend.recommender.policies import Policy, UserState
from backend.recommender.rows_insert import RowsInsert
from backend.recommender.tables import PolicyState


@dataclass(frozen=True)
class StoredState:
    """A stored row: its id, version and update count (what saving needs)."""

    id: Any
    policy_version: str
    updates: int
    state: UserState


_STATES = Prepared(
    'SELECT id, policy_id, policy_version, updates, state FROM policy_state WHERE "user" = {}'
)


async def stored_states(user_id: str) -> dict[str, StoredState]:
    """Every policy state row of a user, by policy id (one query)."""
    return {
        r["policy_id"]: StoredState(
            id=r["id"],
            policy_version=r["policy_version"],
            updates=r["updates"],
            state=json_object(json_value(r["state"])),
        )
        for r in await _STATES.rows(user_id)
    }


_learned: ContextVar[dict[str, tuple[str, Mapping[str, StoredState]]] | None] = ContextVar(
    "oo_states_learned", default=None
)


def remember_learned(user_id: str, states: Mapping[str, StoredState]) -> None:
    """The states a reaction just committed, for the pick that follows in the same request
    (ADR 0041): it scores with them instead of reading them back. Call after the commit."""
    _learned.set({"states": (user_id, states)})


async def states_for_pick(user_id: str) -> Mapping[str, StoredState]:
    """The person's states for a pick: those this request's reaction committed (once), else
    read (one query)."""
    held = _learned.get()
    if held is not None:
        found = held.pop("states", None)
        if found is not None and found[0] == user_id:
            return found[1]
    return await stored_states(user_id)


def state_for(policy: Policy, stored: Mapping[str, StoredState]) -> UserState:
    """The policy's state from stored rows; a fresh one when absent or of another version."""
    row = stored.get(policy.id)
    if row is None or row.policy_version != policy.version or not row.state:
        return policy.initial_state()
    return row.state


async def load_states(user_id: str, policies: Iterable[Policy]) -> dict[str, UserState]:
    """States of several policies for one user, in one query."""
    stored = await stored_states(user_id)
    return {p.id: state_for(p, stored) for p in policies}


def states_upsert(
    user_id: str,
    new_states: Mapping[str, tuple[Policy, UserState]],
    stored: Mapping[str, StoredState],
    learned: Mapping[str, int] | None = None,
) -> tuple[RowsInsert | None, dict[str, StoredState]]:
    """The one statement writing new states (None: nothing to write), and every state of the
    person as stored after it (`stored` with the new ones over it). `learned`: how many
    rewards each new state folded in (1 where not given), what its update count grows by.

    Existing rows are upserted on their id (so they are updated), missing rows get new ids (so
    they are inserted) — one statement instead of one per policy."""
    now = datetime.now(UTC)
    rows: list[tuple[Any, ...]] = []
    after = dict(stored)
    for policy_id, (policy, state) in new_states.items():
        row = stored.get(policy_id)
        same_version = row is not None and row.policy_version == policy.version
        count = learned.get(policy_id, 1) if learned is not None else 1
        updates = (row.updates + count) if row is not None and same_version else count
        row_id = row.id if row is not None else uuid.uuid4()
        rows.append((row_id, user_id, policy_id, policy.version, state, updates, now))
        after[policy_id] = StoredState(row_id, policy.version, updates, state)
    if not rows:
        return None, after
    upsert = RowsInsert(
        PolicyState,
        (
            PolicyState.id,
            PolicyState.user,
            PolicyState.policy_id,
            PolicyState.policy_version,
            PolicyState.state,
            PolicyState.updates,
            PolicyState.updated_at,
        ),
        rows,
        update_on_conflict=(
            PolicyState.state,
            PolicyState.policy_version,
            PolicyState.updates,
            PolicyState.updated_at,
        ),
    )
    return upsert, after


async def save_states(
    user_id: str,
    new_states: Mapping[str, tuple[Policy, UserState]],
    stored: Mapping[str, StoredState],
) -> dict[str, StoredState]:
    """Write new states (call inside the feedback transaction, with `stored` read in it): one
    statement (`states_upsert`). Returns every state of the person as stored after it."""
    upsert, after = states_upsert(user_id, new_states, stored)
    if upsert is not None:
        await upsert
    return after


async def load_state(user_id: str, policy: Policy) -> UserState:
    """The user's state for one policy (see `load_states`)."""
    return (await load_states(user_id, [policy]))[policy.id]


async def save_state(user_id: str, policy: Policy, state: UserState) -> None:
    """Write one policy's state (call inside the feedback transaction)."""
    await save_states(user_id, {policy.id: (policy, state)}, await stored_states(user_id))


def learning_lock_key(user_id: str) -> str:
    """The advisory lock's name for a person's learning (PostgreSQL: hashtext of it)."""
    return f"oo-learn:{user_id}"


async def lock_user_learning(user_id: str) -> None:
    """Serialise learning per user inside the current transaction.

    Two reactions of one person (two tabs, two replicas) would otherwise both read the same
    state and the later write would drop the earlier update. SQLite already serialises writers
    (IMMEDIATE transactions); on PostgreSQL a transaction-scoped advisory lock on the user does.
    """
    if engine().engine_type == "postgres":
        await PolicyState.raw(
            "SELECT pg_advisory_xact_lock(hashtext({}))", learning_lock_key(user_id)
        )


async def reset_states(
    actor_user_id: str | None, user_id: str, policy_id: str | None = None, reason: str = ""
) -> int:
    """Forget what policies learned about a user (one policy, or all); returns rows deleted.

    Audit-logged in the same transaction.
    """
    where: Combinable = PolicyState.user == user_id
    if policy_id is not None:
        where = where & (PolicyState.policy_id == policy_id)
    async with write_transaction():
        await lock_user_learning(user_id)
        count = int(await PolicyState.count().where(where))
        await PolicyState.delete().where(where)
        await record(
            actor_user_id,
            "policy.reset_state",
            user_id,
            {"policy_id": policy_id, "deleted": count, "reason": reason},
        )
    return count
