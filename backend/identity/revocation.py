"""Revoking provider tokens at the provider: a registry of provider name → async revoke(token).

Integrations register theirs (`register_revoker("todoist", revoke)`); Google's is built in because
its endpoint is public and simple. A provider without a revoker is skipped — its tokens are still
deleted from the vault, which is all we can do. URLs come from settings so tests point them at a
stand-in server on 127.0.0.1.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

import httpx

from backend.identity.vault import Credential
from backend.settings import get_settings

log = logging.getLogger("oo.privacy")

Revoker = Callable[[str], Awaitable[None]]
_REVOKERS: dict[str, Revoker] = {}


class RevokeError(Exception):
    """A provider refused or failed to revoke a token (the message never holds the token)."""


def register_revoker(provider: str, revoke: Revoker) -> None:
    """Make `revoke(token)` the way to revoke tokens of `provider` (replaces an earlier one)."""
    _REVOKERS[provider] = revoke


def unregister_revoker(provider: str) -> None:
    """Forget a provider's revoker (tests)."""
    _REVOKERS.pop(provider, None)


def revoker_for(provider: str) -> Revoker | None:
    """The registered revoker of a provider, if any."""
    return _REVOKERS.get(provider)


async def _google_revoke_url() -> str:
    """GOOGLE_REVOKE_URL, else the discovery document's revocation endpoint."""
    settings = get_settings()
    if settings.google_revoke_url:
        return settings.google_revoke_url
    from backend.identity.oidc import SignInError, fetch_json

    try:
        meta = await fetch_json(settings.google_discovery_url)
    except SignInError as err:
        raise RevokeError("google discovery document unreachable") from err
    return str(meta.get("revocation_endpoint") or "https://oauth2.googleapis.com/revoke")


async def revoke_google(token: str) -> None:
    """Google: POST token=… to the revoke endpoint; revoking either token ends the grant."""
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(await _google_revoke_url(), data={"token": token})
    except httpx.HTTPError as err:
        raise RevokeError(f"google revoke endpoint unreachable ({type(err).__name__})") from None
    # 400 invalid_token: already revoked or expired — the outcome we want.
    if response.status_code == 200 or (
        response.status_code == 400 and "invalid_token" in response.text
    ):
        return
    raise RevokeError(f"google revoke answered HTTP {response.status_code}")


register_revoker("google", revoke_google)


@dataclass
class RevocationReport:
    """Which providers' tokens were revoked, skipped (no revoker) or failed."""

    revoked: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


async def revoke_all(credentials: Iterable[Credential]) -> RevocationReport:
    """Revoke each credential at its provider; failures are logged and reported, never raised.

    The refresh token is preferred: at Google (and most OAuth servers) revoking it ends the whole
    grant, access tokens included. Deletion goes on after a failure — a provider being down must
    not keep a person's data here.
    """
    report = RevocationReport()
    for credential in credentials:
        revoke = revoker_for(credential.provider)
        if revoke is None:
            report.skipped.append(credential.provider)
            continue
        token = credential.refresh_token or credential.access_token
        try:
            await revoke(token.reveal())
        except Exception as err:
            # Only the type and our own message: provider errors can echo the token back.
            detail = str(err) if isinstance(err, RevokeError) else type(err).__name__
            log.warning(
                "revoking a %s credential of user %s failed: %s",
                credential.provider,
                credential.user_id,
                detail,
            )
            report.failed.append(credential.provider)
        else:
            report.revoked.append(credential.provider)
    return report
