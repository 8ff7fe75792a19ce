"""GraphQL of the identity domain: who am I."""

from __future__ import annotations

import strawberry

from backend.graphql.context import Info
from backend.graphql.permissions import IsAuthenticated


@strawberry.type(name="User")
class UserType:
    """A person."""

    id: strawberry.ID
    email: str | None
    name: str
    role: str
    timezone: str


@strawberry.type
class IdentityQuery:
    """Identity queries."""

    @strawberry.field(permission_classes=[IsAuthenticated], description="The signed-in person.")
    async def me(self, info: Info) -> UserType:
        user = await info.context.user()
        return UserType(
            id=strawberry.ID(user.user_id),
            email=user.email,
            name=user.name,
            role=user.role,
            timezone=user.timezone,
        )
