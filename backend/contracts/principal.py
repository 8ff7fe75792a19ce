"""Who is calling, and how a caller is recognised (identity implements it; others only ask)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user and how they proved it."""

    user_id: str
    email: str | None
    name: str
    role: str
    timezone: str
    via: str  # "session" | "token" | "job"

    @property
    def is_admin(self) -> bool:
        """Role admin."""
        return self.role == "admin"


class Authenticator(Protocol):
    """Recognises callers: by session cookie, by personal token, or by id (for jobs)."""

    async def from_cookies(self, cookies: Mapping[str, str]) -> Principal | None:
        """The person signed in by the session cookie among `cookies`, if any."""
        ...

    async def from_token(self, token: str) -> Principal | None:
        """The owner of a personal API token (None: unknown or revoked)."""
        ...

    async def from_user_id(self, user_id: str, via: str) -> Principal | None:
        """An active (not deleted) person by id."""
        ...

    def caller_key(self, token: str | None, cookies: Mapping[str, str]) -> tuple[str, bool] | None:
        """The Redis key whose value names the caller's user id, read ahead in the request's
        one round trip (ADR 0030), and whether that value is JSON with a `user_id` (a session)
        rather than the bare id. None: nothing to read (no credential)."""
        ...


class _Registry:
    authenticator: Authenticator | None = None


def register_authenticator(authenticator: Authenticator) -> None:
    """Install the one authenticator (identity does, when the composer installs it)."""
    _Registry.authenticator = authenticator


def authenticator() -> Authenticator:
    """The installed authenticator; a clear error when the domains were not installed."""
    if _Registry.authenticator is None:
        raise RuntimeError("no authenticator: call backend.domains.install() first")
    return _Registry.authenticator
