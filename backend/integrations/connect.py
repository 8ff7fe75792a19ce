"""Connecting and disconnecting sources through OAuth (authlib), state kept server-side."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client

from backend.identity.oidc import (
    CodeRefused,
    ProviderUnreachable,
    SignInError,
    begin_flow,
    exchange_code,
    fetch_json,
    take_flow,
)
from backend.identity.revocation import register_revoker, revoke_google, revoker_for
from backend.identity.vault import delete_credential, get_credential
from backend.integrations import gcal, todoist
from backend.integrations.errors import NotConfigured, SourceError
from backend.integrations.status import mark_connected, mark_disconnected
from backend.settings import get_settings

# Account deletion and disconnect both revoke through this registry.
register_revoker(todoist.PROVIDER, todoist.revoke)
register_revoker(gcal.PROVIDER, revoke_google)

OAUTH_SOURCES = ("todoist", "google-calendar")


def callback_url(source: str) -> str:
    """Where the provider sends the person back."""
    return f"{get_settings().base_url}/integrations/{source}/callback"


def _require_configured(source: str) -> None:
    s = get_settings()
    if source == "todoist" and not (s.todoist_client_id and s.todoist_client_secret):
        raise NotConfigured("Connect Todoist needs TODOIST_CLIENT_ID and TODOIST_CLIENT_SECRET.")
    if source == "google-calendar" and not (s.google_client_id and s.google_client_secret):
        raise NotConfigured(
            "Connect Google Calendar needs GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET."
        )
    if source not in OAUTH_SOURCES:
        raise SourceError(f"Unknown source {source!r}.")


def is_configured(source: str) -> bool:
    """Whether the server can connect this source."""
    try:
        _require_configured(source)
    except SourceError:
        return False
    return True


async def authorize_url(user_id: str, source: str) -> str:
    """The provider's consent page for this person (the flow is bound to them)."""
    _require_configured(source)
    s = get_settings()
    state, flow = await begin_flow(f"{source}:{user_id}")
    if source == "todoist":
        client = AsyncOAuth2Client(
            s.todoist_client_id, redirect_uri=callback_url(source), scope="data:read_write"
        )
        url, _ = client.create_authorization_url(s.todoist_authorize_url, state=state)
        return str(url)
    meta = await fetch_json(s.google_discovery_url)
    client = AsyncOAuth2Client(
        s.google_client_id,
        redirect_uri=callback_url(source),
        scope=gcal.SCOPE,
        code_challenge_method="S256",
    )
    url, _ = client.create_authorization_url(
        meta["authorization_endpoint"],
        state=state,
        code_verifier=flow.code_verifier,
        access_type="offline",
        prompt="consent",
        include_granted_scopes="true",
    )
    return str(url)


async def complete(user_id: str, source: str, code: str | None, state: str | None) -> None:
    """Finish connecting: check the state, exchange the code, keep the tokens in the vault."""
    _require_configured(source)
    try:
        flow = await take_flow(state, f"{source}:{user_id}")
    except SignInError as err:
        raise SourceError(err.reason) from None
    if not code:
        raise SourceError("The connection was not approved. You can try again.")
    s = get_settings()
    if source == "todoist":
        token = await _exchange(
            s.todoist_token_url, s.todoist_client_id, s.todoist_client_secret, source, code
        )
        account = await _todoist_account(str(token["access_token"]))
        await todoist.store_token(user_id, account or "todoist", token)
        await mark_connected(user_id, source, account)
        return
    meta = await fetch_json(s.google_discovery_url)
    token = await _exchange(
        meta["token_endpoint"],
        s.google_client_id,
        s.google_client_secret,
        source,
        code,
        code_verifier=flow.code_verifier,
    )
    await gcal.store_token(user_id, token)
    await mark_connected(user_id, source, "primary")


async def _exchange(
    token_url: str,
    client_id: str,
    client_secret: str,
    source: str,
    code: str,
    code_verifier: str | None = None,
) -> dict[str, Any]:
    try:
        return await exchange_code(
            token_url, client_id, client_secret, callback_url(source), code, code_verifier
        )
    except CodeRefused as err:
        raise SourceError(
            "The provider refused the connection code. Please try again."
        ) from err.__cause__
    except ProviderUnreachable as err:
        raise SourceError("The provider could not be reached. Please try again.") from err.__cause__


async def _todoist_account(access_token: str) -> str:
    """Todoist's user id (routes webhooks to the person); empty when the API does not say."""
    url = f"{get_settings().todoist_api_url}/user"
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.get(url, headers={"Authorization": f"Bearer {access_token}"})
    except httpx.HTTPError:
        return ""
    if response.status_code != 200:
        return ""
    return str(response.json().get("id", ""))


async def disconnect(user_id: str, source: str) -> None:
    """Revoke at the provider (best effort), forget the tokens, mark disconnected."""
    provider = gcal.PROVIDER if source == "google-calendar" else source
    cred = await get_credential(user_id, provider)
    revoker = revoker_for(provider)
    if cred is not None:
        if revoker is not None:
            with contextlib.suppress(Exception):  # the tokens are forgotten below either way
                await revoker(cred.access_token.reveal())
        await delete_credential(user_id, provider)
    await mark_disconnected(user_id, source)
