"""GraphQL subscription over the event bus."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON

from backend.events import live
from backend.graphql.context import Info
from backend.graphql.permissions import IsAuthenticated

EVENT_ID = re.compile(r"[0-9]{1,20}(-[0-9]{1,20})?")
MAX_LAST = 500


@strawberry.type
class Event:
    """One event from the bus."""

    id: strawberry.ID
    subject: str
    user_id: strawberry.ID
    at: datetime
    payload: JSON
    replayed_from: strawberry.ID | None = strawberry.field(
        default=None, description="Set when an operator re-published this event: the original."
    )


@strawberry.type
class EventsSubscription:
    """Live event tails."""

    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description=(
            "Events as they happen. `subjects` filters by subject (a trailing * matches a prefix);"
            " `after` replays from an event id; `last` opens with the last N matching events"
            f" (at most {MAX_LAST}). People see only their own events."
        ),
    )
    async def events(
        self,
        info: Info,
        subjects: list[str] | None = None,
        user_id: strawberry.ID | None = None,
        after: str | None = None,
        last: int | None = None,
    ) -> AsyncGenerator[Event, None]:
        user = await info.context.user()
        if user_id is not None and str(user_id) != user.user_id and not user.is_admin:
            raise GraphQLError(
                "You can only follow your own events.", extensions={"code": "FORBIDDEN"}
            )
        if after is not None and not EVENT_ID.fullmatch(after):
            raise GraphQLError(
                "`after` must be an event id such as 1733450000000-0.",
                extensions={"code": "BAD_USER_INPUT", "field": "after"},
            )
        if last is not None and not 0 <= last <= MAX_LAST:
            raise GraphQLError(
                f"`last` must be between 0 and {MAX_LAST}.",
                extensions={"code": "BAD_USER_INPUT", "field": "last"},
            )
        scope = str(user_id) if user_id is not None else (None if user.is_admin else user.user_id)
        try:
            async for event in live.subscribe(subjects, scope, after=after, last_n=last):
                yield Event(
                    id=strawberry.ID(event.id),
                    subject=event.subject,
                    user_id=strawberry.ID(event.user_id),
                    at=event.at,
                    payload=event.payload,  # type: ignore[arg-type]
                    replayed_from=strawberry.ID(event.replayed_from)
                    if event.replayed_from
                    else None,
                )
        except live.SubscriberTooSlow as slow:
            raise GraphQLError(
                "This subscription fell too far behind and was ended; subscribe again with"
                " `after` set to the last event id you received.",
                extensions={"code": "SUBSCRIBER_TOO_SLOW", "resumeAfter": slow.last_id},
            ) from None
