"""Per-user policy state in the database, versioned by policy id and version."""

from __future__ import annotations

from datetime import UTC, datetime

from backend.recommender.policies import Policy, UserState
from backend.recommender.tables import PolicyState


async def load_state(user_id: str, policy: Policy) -> UserState:
    """The user's state for this policy; a fresh one when absent or of another version."""
    row = (
        await PolicyState.select(PolicyState.state, PolicyState.policy_version)
        .where((PolicyState.user == user_id) & (PolicyState.policy_id == policy.id))
        .output(load_json=True)
        .first()
    )
    if row is None or row["policy_version"] != policy.version:
        return policy.initial_state()
    state = row["state"]
    return state if isinstance(state, dict) else policy.initial_state()


async def save_state(user_id: str, policy: Policy, state: UserState) -> None:
    """Write the state (call inside the feedback transaction)."""
    now = datetime.now(UTC)
    row = (
        await PolicyState.select(PolicyState.id, PolicyState.updates, PolicyState.policy_version)
        .where((PolicyState.user == user_id) & (PolicyState.policy_id == policy.id))
        .first()
    )
    if row is None:
        await PolicyState(
            user=user_id,
            policy_id=policy.id,
            policy_version=policy.version,
            state=state,
            updates=1,
            updated_at=now,
        ).save()
        return
    same_version = row["policy_version"] == policy.version
    await PolicyState.update(
        {
            PolicyState.state: state,
            PolicyState.policy_version: policy.version,
            PolicyState.updates: (row["updates"] + 1) if same_version else 1,
            PolicyState.updated_at: now,
        }
    ).where(PolicyState.id == row["id"])
