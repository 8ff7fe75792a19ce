"""Fixtures of the recommender's integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from backend.identity.service import Principal, principal_for_user
from backend.integrations.service import forget_items
from backend.integrations.tables import DemoTask
from backend.recommender.registry import ensure_registry
from backend.recommender.registry_cache import forget_serving
from backend.recommender.tables import PolicyRegistry
from tests.support.fixtures import make_person


@pytest.fixture
async def registry_restored() -> AsyncIterator[None]:
    """Put the policy registry back as it was (tests that promote or disable share the DB)."""
    await ensure_registry()
    before = await PolicyRegistry.select()
    yield
    # Free the active slot first: its unique index allows one holder at a time.
    await PolicyRegistry.update({PolicyRegistry.active_slot: None}).where(
        PolicyRegistry.active_slot.is_not_null()
    )
    for row in before:
        await PolicyRegistry.update(
            {
                PolicyRegistry.status: row["status"],
                PolicyRegistry.active_slot: row["active_slot"],
                PolicyRegistry.promoted_at: row["promoted_at"],
                PolicyRegistry.version: row["version"],
            }
        ).where(PolicyRegistry.id == row["id"])
    forget_serving()  # the rows were rewritten behind the registry's back


async def person_with_tasks(*specs: tuple[str, int]) -> Principal:
    """A person whose only open items are these demo tasks (content, priority)."""
    p = await make_person(tasks=False)
    now = datetime.now(UTC)
    await DemoTask.insert(
        *[
            DemoTask(user=p.user_id, project="Home", content=c, priority=prio, added_at=now)
            for c, prio in specs
        ]
    )
    await forget_items(p.user_id)
    principal = await principal_for_user(p.user_id, "token")
    assert principal is not None
    return principal
