"""The executor our schema runs on: Strawberry's, with a memo scoped to each subscription event.

graphql-core 3.3 gives every per-event executor of a subscription a shallow copy of the
subscription's executor, sharing its subfield memo — keyed by `id()` of lists that are built
anew for every event. On a long-lived subscription the memo grew by every event delivered: a
leak that made each full garbage collection slower (measured: 0.15 → 0.5 s pauses within 20 s
at 1,000 subscribers, bench/subscriptions_fanout.py). Each event now gets its own memo, which
is all the memo is for (lists within one execution).
"""

from __future__ import annotations

from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class EventScopedExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor; a subscription event's copy starts with an empty subfield memo."""

    def build_per_event_executor(self, payload: Any) -> Any:
        """The per-event copy, without the previous events' memo."""
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        return executor
