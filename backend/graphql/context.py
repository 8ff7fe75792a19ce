"""The typed GraphQL context and its `Info` alias; resolves who is calling, once per request."""

from __future__ import annotations

import asyncio
from typing import Any, TypeAlias

import msgspec
from graphql import GraphQLError
from litestar import Request, WebSocket
from strawberry.litestar import BaseContext
from strawberry.types import Info as StrawberryInfo

from backend import ratelimit
from backend.contracts.principal import Principal, authenticator


def unauthenticated(message: str = "Sign in or send a personal token.") -> GraphQLError:
    """The error every protected field raises for anonymous callers."""
    return GraphQLError(message, extensions={"code": "UNAUTHENTICATED"})


class Context(BaseContext, kw_only=True):
    """Per-request context: the connection, and the caller once resolved."""

    connection_params: dict[str, Any] | None = None
    resolved: bool = False
    refused: bool = False
    principal: Principal | None = None
    lookup: asyncio.Lock = msgspec.field(default_factory=asyncio.Lock)
    """Root fields resolve concurrently: the first to ask looks the caller up, the rest wait
    for its answer instead of sending their own query."""

    def _connection(self) -> Request[Any, Any, Any] | WebSocket[Any, Any, Any]:
        conn = self.request or self.websocket
        if conn is None:
            raise RuntimeError("context has neither request nor websocket")
        return conn

    def _bearer(self) -> str | None:
        conn = self._connection()
        header = conn.headers.get("authorization")
        if header is None and self.connection_params:
            raw = self.connection_params.get("Authorization") or self.connection_params.get(
                "authorization"
            )
            header = raw if isinstance(raw, str) else None
        if header is None:
            return None
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise unauthenticated("Authorization must be 'Bearer <personal token>'.")
        return value.strip()

    async def resolve_principal(self) -> Principal | None:
        """Who is calling: a bearer token wins over the session cookie. Invalid token → error.

        Looked up once per operation, however many fields ask (an invalid token is refused
        to each of them, and counted once)."""
        if self.resolved and not self.refused:
            return self.principal
        async with self.lookup:
            if self.resolved:
                if self.refused:
                    raise unauthenticated("The personal token is invalid or revoked.")
                return self.principal
            return await self._look_up()

    async def _look_up(self) -> Principal | None:
        token = self._bearer()
        if token is not None:
            principal = await authenticator().from_token(token)
            if principal is None:
                client = self._connection().client
                await ratelimit.count_auth_failure(client.host if client else "unknown")
                self.resolved, self.refused = True, True
                raise unauthenticated("The personal token is invalid or revoked.")
        else:
            principal = await authenticator().from_cookies(self._connection().cookies)
        self.principal = principal
        self.resolved = True
        return principal

    async def user(self) -> Principal:
        """The caller, or UNAUTHENTICATED."""
        principal = await self.resolve_principal()
        if principal is None:
            raise unauthenticated()
        return principal


Info: TypeAlias = StrawberryInfo[Context, None]


async def context_getter() -> Context:
    """Litestar dependency: a fresh context; strawberry fills in request/websocket."""
    return Context()
