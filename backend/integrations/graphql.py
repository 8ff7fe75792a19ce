"""GraphQL of integrations: status per source, connect, disconnect, sync."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

import strawberry

from backend.graphql.context import Info
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.types import UserError
from backend.integrations import connect, lifecycle, service
from backend.integrations.catalog import IntegrationView, integrations_of
from backend.integrations.errors import SourceError

SYNC_TIMEOUT_S = 15.0
# Named `source` in GraphQL; not in Python, where strawberry's permission hook owns `source`.
SourceArg = Annotated[str, strawberry.argument(name="source")]


@strawberry.type
class Integration:
    """A source and the caller's connection to it."""

    source: str
    name: str
    description: str
    configured: bool
    status: str
    connected: bool
    needs_reconnect: bool
    last_sync_at: datetime | None
    items_seen: int
    error: str | None

    @classmethod
    def of(cls, view: IntegrationView) -> Integration:
        """From the catalog's view."""
        return cls(
            source=view.source,
            name=view.name,
            description=view.description,
            configured=view.configured,
            status=view.status,
            connected=view.connected,
            needs_reconnect=view.needs_reconnect,
            last_sync_at=view.last_sync_at,
            items_seen=view.items_seen,
            error=view.error or None,
        )


@strawberry.type
class ConnectPayload:
    """Where to send the person to approve the connection."""

    authorize_url: str | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class IntegrationPayload:
    """The integration after the change."""

    integration: Integration | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


async def _one(user_id: str, source: str) -> Integration | None:
    views = {v.source: v for v in await integrations_of(user_id)}
    view = views.get(source)
    return Integration.of(view) if view else None


def _source_error(err: SourceError) -> UserError:
    return UserError(code=err.code, message=err.reason, field="source")


@strawberry.type
class IntegrationsQuery:
    """Integration queries."""

    @strawberry.field(permission_classes=[IsAuthenticated], description="My integrations.")
    async def integrations(self, info: Info) -> list[Integration]:
        user = await info.context.user()
        return [Integration.of(v) for v in await integrations_of(user.user_id)]


@strawberry.type
class IntegrationsMutation:
    """Integration mutations."""

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Start connecting a source (todoist, google-calendar): the authorize URL.",
    )
    async def connect_integration(self, info: Info, source_name: SourceArg) -> ConnectPayload:
        user = await info.context.user()
        try:
            return ConnectPayload(
                authorize_url=await connect.authorize_url(user.user_id, source_name)
            )
        except SourceError as err:
            return ConnectPayload(errors=[_source_error(err)])

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Disconnect a source: revoke at the provider, forget the tokens.",
    )
    async def disconnect_integration(
        self, info: Info, source_name: SourceArg
    ) -> IntegrationPayload:
        user = await info.context.user()
        if source_name not in connect.OAUTH_SOURCES:
            return IntegrationPayload(
                errors=[UserError(code="NOT_FOUND", message="No such source.", field="source")]
            )
        await lifecycle.disconnect(user.user_id, source_name)
        return IntegrationPayload(integration=await _one(user.user_id, source_name))

    @strawberry.mutation(permission_classes=[IsAuthenticated], description="Sync a source now.")
    async def sync_integration(self, info: Info, source_name: SourceArg) -> IntegrationPayload:
        user = await info.context.user()
        current = await _one(user.user_id, source_name)
        if current is None or source_name not in connect.OAUTH_SOURCES:
            return IntegrationPayload(
                errors=[UserError(code="NOT_FOUND", message="No such source.", field="source")]
            )
        if not current.configured:
            return IntegrationPayload(
                integration=current,
                errors=[
                    UserError(code="NOT_CONFIGURED", message="Not configured here.", field="source")
                ],
            )
        try:
            await asyncio.wait_for(service.sync(user.user_id, source_name), SYNC_TIMEOUT_S)
        except SourceError as err:
            return IntegrationPayload(
                integration=await _one(user.user_id, source_name), errors=[_source_error(err)]
            )
        return IntegrationPayload(integration=await _one(user.user_id, source_name))
