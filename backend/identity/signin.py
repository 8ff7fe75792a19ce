"""Sign in with Google (OIDC + PKCE) and Sign in with Apple (form_post), through authlib."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.jwk import ECKey

from backend.db import write_transaction
from backend.identity.oidc import (
    SignInError,
    as_bool,
    begin_flow,
    exchange_code,
    fetch_json,
    take_flow,
    verify_id_token,
)
from backend.identity.service import set_role
from backend.identity.tables import User, UserIdentity
from backend.settings import get_settings

APPLE_AUDIENCE = "https://appleid.apple.com"
GOOGLE_ISSUER = "https://accounts.google.com"


class NotConfigured(SignInError):
    """A provider whose client id / secret are missing."""


@dataclass(frozen=True)
class ProviderIdentity:
    """Who the provider says the person is (after every check passed)."""

    provider: str
    subject: str
    email: str | None
    name: str
    picture: str = ""
    timezone: str | None = None


def _callback(provider: str) -> str:
    return f"{get_settings().base_url}/auth/{provider}/callback"


def providers_configured() -> dict[str, bool]:
    """Which sign-in buttons to show."""
    s = get_settings()
    return {
        "google": bool(s.google_client_id and s.google_client_secret),
        "apple": bool(
            s.apple_client_id and s.apple_team_id and s.apple_key_id and s.apple_private_key
        ),
    }


# Google ------------------------------------------------------------------------------


async def google_authorize_url() -> str:
    """Where to send the person: Google's consent screen with state, nonce and PKCE (S256)."""
    s = get_settings()
    if not providers_configured()["google"]:
        raise NotConfigured("Sign in with Google needs GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET.")
    meta = await fetch_json(s.google_discovery_url)
    state, flow = await begin_flow("google")
    client = AsyncOAuth2Client(
        s.google_client_id,
        s.google_client_secret,
        redirect_uri=_callback("google"),
        scope="openid email profile",
        code_challenge_method="S256",
    )
    url, _ = client.create_authorization_url(
        meta["authorization_endpoint"],
        state=state,
        code_verifier=flow.code_verifier,
        nonce=flow.nonce,
    )
    return str(url)


async def google_complete(
    code: str | None, state: str | None, error: str | None
) -> ProviderIdentity:
    """Finish a Google sign-in: exchange the code (with the PKCE verifier), verify the id_token."""
    s = get_settings()
    flow = await take_flow(state, "google")
    if error or not code:
        raise SignInError("Google did not sign you in. You can try again.")
    meta = await fetch_json(s.google_discovery_url)
    token = await exchange_code(
        meta["token_endpoint"],
        s.google_client_id,
        s.google_client_secret,
        _callback("google"),
        code,
        code_verifier=flow.code_verifier,
    )
    issuer = str(meta.get("issuer", GOOGLE_ISSUER))
    issuers = [issuer, "accounts.google.com"] if issuer == GOOGLE_ISSUER else [issuer]
    claims = await verify_id_token(
        _id_token(token),
        jwks_url=meta["jwks_uri"],
        issuers=issuers,
        audience=s.google_client_id,
        nonce=flow.nonce,
    )
    email = claims.get("email") if as_bool(claims.get("email_verified", False)) else None
    return ProviderIdentity(
        provider="google",
        subject=str(claims["sub"]),
        email=email.lower() if isinstance(email, str) else None,
        name=str(claims.get("name", "")),
        picture=str(claims.get("picture", "")),
        timezone=claims.get("zoneinfo") if isinstance(claims.get("zoneinfo"), str) else None,
    )


# Apple -------------------------------------------------------------------------------


def apple_client_secret(now: float | None = None) -> str:
    """The ES256 client-secret JWT Apple wants, signed with the .p8 key (valid 10 minutes)."""
    s = get_settings()
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": s.apple_team_id,
        "iat": issued,
        "exp": issued + 600,
        "aud": APPLE_AUDIENCE,
        "sub": s.apple_client_id,
    }
    key = ECKey.import_key(s.apple_private_key)
    return jwt.encode({"alg": "ES256", "kid": s.apple_key_id}, claims, key)


async def apple_authorize_url() -> str:
    """Apple's consent screen; the answer comes back as a cross-site POST (form_post)."""
    s = get_settings()
    if not providers_configured()["apple"]:
        raise NotConfigured(
            "Sign in with Apple needs APPLE_CLIENT_ID, APPLE_TEAM_ID, APPLE_KEY_ID and "
            "APPLE_PRIVATE_KEY."
        )
    state, flow = await begin_flow("apple")
    client = AsyncOAuth2Client(
        s.apple_client_id, redirect_uri=_callback("apple"), scope="name email"
    )
    url, _ = client.create_authorization_url(
        s.apple_authorize_url, state=state, nonce=flow.nonce, response_mode="form_post"
    )
    return str(url)


def _apple_name(user_json: str | None) -> str:
    if not user_json:
        return ""
    try:
        data = json.loads(user_json)
        name = data.get("name") or {}
        return " ".join(p for p in (name.get("firstName"), name.get("lastName")) if p).strip()
    except (ValueError, AttributeError):
        return ""  # a malformed `user` field costs us the name, not the sign-in


async def apple_complete(form: dict[str, str]) -> ProviderIdentity:
    """Finish an Apple sign-in from the posted form (code, state, id_token, user on first time)."""
    s = get_settings()
    flow = await take_flow(form.get("state"), "apple")
    if form.get("error") or not form.get("code"):
        raise SignInError("Apple did not sign you in. You can try again.")
    token = await exchange_code(
        s.apple_token_url,
        s.apple_client_id,
        apple_client_secret(),
        _callback("apple"),
        form["code"],
    )
    claims = await verify_id_token(
        _id_token(token),
        jwks_url=s.apple_jwks_url,
        issuers=[s.apple_issuer],
        audience=s.apple_client_id,
        nonce=flow.nonce,
    )
    email = claims.get("email")
    verified = as_bool(claims.get("email_verified", False)) or as_bool(
        claims.get("is_private_email", False)
    )
    return ProviderIdentity(
        provider="apple",
        subject=str(claims["sub"]),
        email=email.lower() if isinstance(email, str) and verified else None,
        name=_apple_name(form.get("user")),
    )


# Shared ------------------------------------------------------------------------------


def _id_token(token: dict[str, Any]) -> str:
    value = token.get("id_token")
    if not isinstance(value, str):
        raise SignInError("The provider did not send an identity token.")
    return value


async def link_identity(ident: ProviderIdentity) -> str:
    """The person behind a provider identity: linked by `sub`, else by e-mail, else created."""
    s = get_settings()
    now = datetime.now(UTC)
    async with write_transaction():
        link = (
            await UserIdentity.select(UserIdentity.id, UserIdentity.user)
            .where(
                (UserIdentity.provider == ident.provider) & (UserIdentity.subject == ident.subject)
            )
            .first()
        )
        if link is not None:
            user_id = str(link["user"])
            await UserIdentity.update({UserIdentity.last_sign_in_at: now}).where(
                UserIdentity.id == link["id"]
            )
        else:
            user_id = await _user_for_new_identity(ident)
            await UserIdentity(
                user=user_id,
                provider=ident.provider,
                subject=ident.subject,
                email=ident.email,
                last_sign_in_at=now,
            ).save()
    if ident.email and s.admin_seed_email and ident.email == s.admin_seed_email:
        await set_role(user_id, "admin")  # after the commit: announced to every process
    return user_id


async def _user_for_new_identity(ident: ProviderIdentity) -> str:
    if ident.email:
        row = await User.select(User.id, User.deleted_at).where(User.email == ident.email).first()
        if row is not None and row["deleted_at"] is None:
            return str(row["id"])
    user = User(
        email=ident.email,
        name=ident.name,
        picture=ident.picture,
        timezone=ident.timezone or "UTC",
    )
    await user.save()
    return str(user.id)
