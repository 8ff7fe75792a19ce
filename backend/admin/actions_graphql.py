"""Admin action mutations on one person and on the event stream (reason required, audited)."""

# Strawberry's field decorators are untyped; same exemption as pyproject gives `*.graphql`.
# mypy: disallow-untyped-decorators=False

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from backend.admin import actions
from backend.graphql.context import Info
from backend.graphql.permissions import IsAdmin
from backend.graphql.types import UserError


@strawberry.type
class AdminActionPayload:
    """What the action did, in words (`result`), or why it was not done (`errors`)."""

    result: str | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ReplayEventPayload:
    """The id of the re-published event, or why there is none."""

    event_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


async def _act(action: Callable[[], Awaitable[str]]) -> AdminActionPayload:
    try:
        return AdminActionPayload(result=await action())
    except actions.ActionRefused as err:
        return AdminActionPayload(
            errors=[UserError(code=err.code, message=err.message, field=err.field)]
        )


@strawberry.type
class AdminActionMutation:
    """Operators' actions: each needs a reason and lands in the audit log with its result."""

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Disconnect a person's source for them (revoked at the provider).",
    )
    async def revoke_integration(
        self, info: Info, user_id: strawberry.ID, source_name: str, reason: str
    ) -> AdminActionPayload:
        admin = await info.context.user()
        return await _act(
            lambda: actions.revoke_integration(admin.user_id, str(user_id), source_name, reason)
        )

    @strawberry.mutation(
        permission_classes=[IsAdmin], description="Revoke one of a person's personal tokens."
    )
    async def revoke_personal_token(
        self, info: Info, user_id: strawberry.ID, token_id: strawberry.ID, reason: str
    ) -> AdminActionPayload:
        admin = await info.context.user()
        return await _act(
            lambda: actions.revoke_token(admin.user_id, str(user_id), str(token_id), reason)
        )

    @strawberry.mutation(
        permission_classes=[IsAdmin], description="Sign a person out of every session."
    )
    async def end_sessions(
        self, info: Info, user_id: strawberry.ID, reason: str
    ) -> AdminActionPayload:
        admin = await info.context.user()

        async def end() -> str:
            ended = await actions.end_sessions(admin.user_id, str(user_id), reason)
            return f"{ended} session(s) ended"

        return await _act(end)

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Publish a past event again, marked replayedFrom (consumers are "
        "idempotent). Refused for unknown ids and deleted people's events.",
    )
    async def replay_event(self, info: Info, id: strawberry.ID, reason: str) -> ReplayEventPayload:
        admin = await info.context.user()
        try:
            new_id = await actions.replay_event(admin.user_id, str(id), reason)
        except actions.ActionRefused as err:
            return ReplayEventPayload(
                errors=[UserError(code=err.code, message=err.message, field=err.field)]
            )
        return ReplayEventPayload(event_id=strawberry.ID(new_id))
