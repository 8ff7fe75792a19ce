"""OpenID Connect plumbing shared by Google and Apple: flow state, token exchange, id_token checks.

The state, nonce and PKCE verifier of a sign-in live server-side in Redis keyed by `state`
(10 minutes, single use): Apple posts its callback cross-site, where SameSite=Lax cookies are not
sent, so nothing of the flow may depend on a cookie.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from backend.redis import get_redis, key

FLOW_TTL_S = 600
_HTTP_TIMEOUT = httpx.Timeout(10.0)
_json_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_JSON_CACHE_S = 3600.0


class SignInError(Exception):
    """A sign-in that must be refused; `reason` is safe to show to the person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CodeRefused(SignInError):
    """The provider refused the authorization code (expired, already used, or a bad answer)."""


class ProviderUnreachable(SignInError):
    """The provider's token endpoint could not be reached."""


@dataclass(frozen=True)
class Flow:
    """What we remember between sending a person to the provider and their return."""

    provider: str
    nonce: str
    code_verifier: str


async def begin_flow(provider: str) -> tuple[str, Flow]:
    """New state, nonce and PKCE verifier, stored server-side under the state."""
    state = secrets.token_urlsafe(32)
    flow = Flow(provider, secrets.token_urlsafe(32), secrets.token_urlsafe(64))
    await get_redis().set(
        key("oauth-flow", state),
        json.dumps({"provider": provider, "nonce": flow.nonce, "verifier": flow.code_verifier}),
        ex=FLOW_TTL_S,
    )
    return state, flow


async def take_flow(state: str | None, provider: str) -> Flow:
    """The flow of `state`, once (a replayed or forged state is refused)."""
    if not state:
        raise SignInError("The sign-in response had no state. Please start again.")
    raw = await get_redis().getdel(key("oauth-flow", state))
    if raw is None:
        raise SignInError("This sign-in attempt is unknown or has expired. Please start again.")
    data = json.loads(raw)
    if data["provider"] != provider:
        raise SignInError("This sign-in attempt belongs to another provider. Please start again.")
    return Flow(provider, data["nonce"], data["verifier"])


async def fetch_json(url: str, *, fresh: bool = False) -> dict[str, Any]:
    """GET a JSON document (discovery, JWKS), cached in-process for an hour."""
    now = time.monotonic()
    cached = _json_cache.get(url)
    if cached and not fresh and now - cached[0] < _JSON_CACHE_S:
        return cached[1]
    try:
        async with httpx.AsyncClient(timeout=_HTTP_TIMEOUT) as client:
            response = await client.get(url)
            response.raise_for_status()
            document: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError) as err:
        raise SignInError("The sign-in provider could not be reached. Please try again.") from err
    _json_cache[url] = (now, document)
    return document


async def exchange_code(
    token_url: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    code_verifier: str | None = None,
) -> dict[str, Any]:
    """Trade an authorization code (and its PKCE verifier, if any) for the provider's tokens.

    Raises `CodeRefused` or `ProviderUnreachable`, worded for sign-in; other callers reword them.
    """
    client = AsyncOAuth2Client(
        client_id,
        client_secret,
        redirect_uri=redirect_uri,
        token_endpoint_auth_method="client_secret_post",  # noqa: S106 - a method name
        timeout=10,
    )
    extra = {"code_verifier": code_verifier} if code_verifier else {}
    try:
        async with client:
            token = await client.fetch_token(token_url, code=code, **extra)
    except (AuthlibBaseError, ValueError) as err:
        raise CodeRefused(
            "The provider refused the sign-in code (it may have expired or been used)."
        ) from err
    except Exception as err:  # httpx/httpx2 transport errors have no shared base here
        raise ProviderUnreachable(
            "The sign-in provider could not be reached. Please try again."
        ) from err
    return dict(token)


async def verify_id_token(
    id_token: str,
    *,
    jwks_url: str,
    issuers: list[str],
    audience: str,
    nonce: str,
) -> dict[str, Any]:
    """Check signature (provider JWKS), iss, aud, exp/iat and nonce; return the claims."""
    try:
        kid = extract_compact(id_token.encode()).protected.get("kid")
    except (JoseError, ValueError) as err:
        raise SignInError("The sign-in token was malformed.") from err
    keys = KeySet.import_key_set(await fetch_json(jwks_url))  # type: ignore[arg-type]
    if kid and not any(k.kid == kid for k in keys.keys):
        # Keys rotate: refetch once when the token names a key we do not know.
        keys = KeySet.import_key_set(await fetch_json(jwks_url, fresh=True))  # type: ignore[arg-type]
    try:
        token = jwt.decode(id_token, keys, algorithms=["RS256", "ES256"])
    except (JoseError, ValueError) as err:
        raise SignInError("The sign-in token's signature did not verify.") from err
    registry = jwt.JWTClaimsRegistry(
        iss={"essential": True, "values": issuers},
        aud={"essential": True, "value": audience},
        sub={"essential": True},
        exp={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(token.claims)
    except JoseError as err:
        raise SignInError(f"The sign-in token was not valid ({err.error}).") from err
    return dict(token.claims)


def as_bool(value: object) -> bool:
    """Apple sends some booleans as the strings "true"/"false"."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)
