"""The session cookie: its name, setting it, and recognising callers by it (the authenticator)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Response

from backend.contracts.principal import Principal
from backend.identity.service import (
    caller_key,
    principal_for_session,
    principal_for_token,
    principal_for_user,
)
from backend.settings import get_settings

SESSION_COOKIE = "sid"


def with_session_cookie(response: Response[Any], sid: str) -> Response[Any]:
    """Attach the session cookie: HttpOnly, SameSite=Lax, Secure on https."""
    settings = get_settings()
    response.set_cookie(
        SESSION_COOKIE,
        sid,
        max_age=settings.session_ttl_s,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
    return response


class SessionAuthenticator:
    """The authenticator the kernel asks (backend/contracts/principal.py): identity's answer."""

    async def from_cookies(self, cookies: Mapping[str, str]) -> Principal | None:
        """The person of the session cookie, if it names a live session."""
        sid = cookies.get(SESSION_COOKIE)
        return await principal_for_session(sid) if sid else None

    async def from_token(self, token: str) -> Principal | None:
        """The owner of a personal token."""
        return await principal_for_token(token)

    async def from_user_id(self, user_id: str, via: str) -> Principal | None:
        """An active person by id."""
        return await principal_for_user(user_id, via)

    def caller_key(self, token: str | None, cookies: Mapping[str, str]) -> tuple[str, bool] | None:
        """The session's key (JSON), or the token's user-id entry; a bearer token wins."""
        return caller_key(token, cookies.get(SESSION_COOKIE))
