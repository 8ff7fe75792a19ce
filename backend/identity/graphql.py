"""GraphQL of the identity domain: who am I, personal API tokens, sessions."""

from __future__ import annotations

from datetime import datetime

import strawberry

from backend import ratelimit
from backend.graphql.context import Info
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.types import UserError
from backend.identity import service
from backend.identity.cookies import SESSION_COOKIE
from backend.settings import get_settings


@strawberry.type(name="User")
class UserType:
    """A person."""

    id: strawberry.ID
    email: str | None
    name: str
    role: str
    timezone: str


@strawberry.type
class ApiToken:
    """A personal API token (the secret is shown once, at creation)."""

    id: strawberry.ID
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@strawberry.type
class Session:
    """A signed-in browser."""

    id: strawberry.ID
    created_at: datetime
    user_agent: str
    current: bool


@strawberry.type
class CreateApiTokenPayload:
    """The new token and, once only, its secret."""

    token: ApiToken | None = None
    secret: str | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RevokePayload:
    """Whether the thing was revoked."""

    revoked: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


def _token(row: dict[str, object]) -> ApiToken:
    return ApiToken(
        id=strawberry.ID(str(row["id"])),
        name=str(row["name"]),
        created_at=row["created_at"],  # type: ignore[arg-type]
        last_used_at=row["last_used_at"],  # type: ignore[arg-type]
        revoked_at=row["revoked_at"],  # type: ignore[arg-type]
    )


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

    @strawberry.field(permission_classes=[IsAuthenticated], description="My personal API tokens.")
    async def api_tokens(self, info: Info) -> list[ApiToken]:
        user = await info.context.user()
        return [_token(r) for r in await service.list_api_tokens(user.user_id)]

    @strawberry.field(permission_classes=[IsAuthenticated], description="My signed-in sessions.")
    async def sessions(self, info: Info) -> list[Session]:
        user = await info.context.user()
        conn = info.context.request or info.context.websocket
        current = conn.cookies.get(SESSION_COOKIE) if conn else None
        return [
            Session(
                id=strawberry.ID(s.id),
                created_at=s.created_at,
                user_agent=s.user_agent,
                current=s.current,
            )
            for s in await service.list_sessions(user.user_id, current)
        ]


@strawberry.type
class IdentityMutation:
    """Identity mutations."""

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Create a personal API token; its secret is in this response only.",
    )
    async def create_api_token(self, info: Info, name: str) -> CreateApiTokenPayload:
        user = await info.context.user()
        clean = name.strip()
        if not clean or len(clean) > 100:
            return CreateApiTokenPayload(
                errors=[
                    UserError(code="INVALID_NAME", message="Name 1–100 characters.", field="name")
                ]
            )
        refusal = await ratelimit.hit(
            "tokens", get_settings().rate_tokens, f"account:{user.user_id}"
        )
        if refusal is not None:
            message = f"Too many new tokens; try again in {refusal.retry_after_s} s."
            return CreateApiTokenPayload(errors=[UserError(code="RATE_LIMITED", message=message)])
        token_id, secret = await service.create_api_token(user.user_id, clean)
        rows = await service.list_api_tokens(user.user_id)
        row = next(r for r in rows if str(r["id"]) == token_id)
        return CreateApiTokenPayload(token=_token(row), secret=secret)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated], description="Revoke a token; effective at once."
    )
    async def revoke_api_token(self, info: Info, id: strawberry.ID) -> RevokePayload:
        user = await info.context.user()
        if await service.revoke_api_token(user.user_id, str(id)):
            return RevokePayload(revoked=True)
        return RevokePayload(
            errors=[UserError(code="NOT_FOUND", message="No such token.", field="id")]
        )

    @strawberry.mutation(permission_classes=[IsAuthenticated], description="Sign out a session.")
    async def revoke_session(self, info: Info, id: strawberry.ID) -> RevokePayload:
        user = await info.context.user()
        if await service.revoke_session(user.user_id, str(id)):
            return RevokePayload(revoked=True)
        return RevokePayload(
            errors=[UserError(code="NOT_FOUND", message="No such session.", field="id")]
        )
