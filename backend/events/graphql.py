"""GraphQL subscription over the event bus."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON

from backend.events import bus
from backend.graphql.context import Info
from backend.graphql.permissions import IsAuthenticated


@strawberry.type
class Event:
    """One event from the bus."""

    id: strawberry.ID
    subject: str
    user_id: strawberry.ID
    at: datetime
    payload: JSON


@strawberry.type
class EventsSubscription:
    """Live event tails."""

    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description=(
            "Events as they happen. `subjects` filters by subject (a trailing * matches a prefix);"
            " `after` replays from an event id. People see only their own events."
        ),
    )
    async def events(
        self,
        info: Info,
        subjects: list[str] | None = None,
        user_id: strawberry.ID | None = None,
        after: str | None = None,
    ) -> AsyncGenerator[Event, None]:
        user = await info.context.user()
        if user_id is not None and str(user_id) != user.user_id and not user.is_admin:
            raise GraphQLError(
                "You can only follow your own events.", extensions={"code": "FORBIDDEN"}
            )
        scope = str(user_id) if user_id is not None else (None if user.is_admin else user.user_id)
        async for event in bus.tail(subjects, scope, after=after or "$"):
            yield Event(
                id=strawberry.ID(event.id),
                subject=event.subject,
                user_id=strawberry.ID(event.user_id),
                at=event.at,
                payload=event.payload,  # type: ignore[arg-type]
            )
