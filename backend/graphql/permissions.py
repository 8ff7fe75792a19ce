"""Permission classes used on every field that needs them."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from backend.graphql.context import Info


class IsAuthenticated(BasePermission):
    """Signed in by session cookie or personal token."""

    message = "Sign in or send a personal token."
    error_extensions = {"code": "UNAUTHENTICATED"}

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        """True when the caller is known."""
        return await info.context.resolve_principal() is not None


class IsAdmin(BasePermission):
    """Role admin."""

    message = "Only an admin may do this."
    error_extensions = {"code": "FORBIDDEN"}

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        """True for admins."""
        principal = await info.context.resolve_principal()
        return principal is not None and principal.is_admin
