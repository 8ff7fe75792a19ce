"""Permission classes used on every field that needs them."""

from __future__ import annotations

import hmac
from typing import Any

from graphql import GraphQLError, OperationType
from strawberry.permission import BasePermission

from backend.graphql.context import Info, unauthenticated

CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "x-csrftoken"


def _check_csrf(info: Info) -> None:
    """Cookie-authenticated mutations over HTTP must echo the CSRF cookie in a header.

    Bearer-token calls are exempt (a browser never attaches them by itself), and so are
    queries (they change nothing). This is the double-submit check Litestar's CSRF middleware
    does for forms, applied where that middleware cannot see: inside GraphQL.
    """
    ctx = info.context
    principal = ctx.principal
    if principal is None or principal.via != "session" or ctx.request is None:
        return
    if info.operation.operation is not OperationType.MUTATION:
        return
    cookie = ctx.request.cookies.get(CSRF_COOKIE, "")
    header = ctx.request.headers.get(CSRF_HEADER, "")
    if not cookie or not header or not hmac.compare_digest(cookie.encode(), header.encode()):
        raise GraphQLError(
            "Missing or wrong CSRF token: send the csrftoken cookie's value as X-CSRFToken.",
            extensions={"code": "CSRF_FAILED"},
        )


class IsAuthenticated(BasePermission):
    """Signed in by session cookie or personal token (and CSRF-checked for cookie mutations)."""

    message = "Sign in or send a personal token."
    error_extensions = {"code": "UNAUTHENTICATED"}

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        """True when the caller is known."""
        if await info.context.resolve_principal() is None:
            return False
        _check_csrf(info)
        return True


class IsAdmin(BasePermission):
    """Role admin."""

    message = "Only an admin may do this."
    error_extensions = {"code": "FORBIDDEN"}

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        """True for admins; anonymous callers are told to sign in, people that they may not."""
        principal = await info.context.resolve_principal()
        if principal is None:
            raise unauthenticated()
        if not principal.is_admin:
            return False
        _check_csrf(info)
        return True
