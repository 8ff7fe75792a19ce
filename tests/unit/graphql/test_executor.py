"""A long-lived subscription keeps no memory per event (graphql-core 3.3 kept a memo entry for
every event delivered; backend/graphql/executor.py scopes it to the event)."""

from __future__ import annotations

import gc
from collections.abc import AsyncGenerator

import pytest
import strawberry
from graphql.execution.collect_fields import CollectedFields
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from backend.graphql.executor import EventScopedExecutor

EVENTS = 300


@strawberry.type
class Item:
    n: int
    label: str


@strawberry.type
class Query:
    ok: bool = True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def items(self) -> AsyncGenerator[Item, None]:
        for n in range(EVENTS):
            yield Item(n=n, label=f"item {n}")


def _live_memo_entries() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, CollectedFields))


async def _held_after_events(executor: type[StrawberryGraphQLCoreExecutionContext]) -> int:
    schema = strawberry.Schema(
        query=Query, subscription=Subscription, execution_context_class=executor
    )
    stream = await schema.subscribe("subscription { items { n label } }")
    assert not isinstance(stream, strawberry.types.ExecutionResult)
    seen = 0
    async for result in stream:  # type: ignore[union-attr]
        assert result.errors is None
        seen += 1
        if seen == EVENTS - 1:
            held = _live_memo_entries()  # the subscription is still open here
    assert seen == EVENTS
    return held


@pytest.mark.parametrize("executor", [EventScopedExecutor])
async def test_a_subscription_keeps_nothing_per_event(
    executor: type[StrawberryGraphQLCoreExecutionContext],
) -> None:
    before = _live_memo_entries()
    assert await _held_after_events(executor) - before < 10


async def test_the_unscoped_executor_grows_with_events() -> None:
    """Guards the test itself: without the fix the memo holds one entry per event."""
    before = _live_memo_entries()
    held = await _held_after_events(StrawberryGraphQLCoreExecutionContext) - before
    assert held >= EVENTS // 2
