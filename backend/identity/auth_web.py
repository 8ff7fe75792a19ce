"""Provider sign-in routes (Google, Apple), the admin token sign-in, and starting sessions."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Redirect

from backend import ratelimit
from backend.events.bus import publish
from backend.events.contracts import SignedIn
from backend.identity.cookies import SESSION_COOKIE, with_session_cookie
from backend.identity.oidc import SignInError
from backend.identity.service import create_session, end_session, get_or_create_user, set_role
from backend.identity.signin import (
    ProviderIdentity,
    apple_authorize_url,
    apple_complete,
    google_authorize_url,
    google_complete,
    link_identity,
)
from backend.settings import get_settings
from backend.web import error_page, too_many_requests


async def start_session(
    request: Request[Any, Any, Any], user_id: str, to: str = "/tip"
) -> Response[Any]:
    """Sign a person in: end any previous session of this browser, issue a fresh sid."""
    refusal = await ratelimit.hit("sessions", get_settings().rate_sessions, f"account:{user_id}")
    if refusal is not None:
        raise too_many_requests(refusal.retry_after_s)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await end_session(old)  # session ids never survive a sign-in (no fixation)
    sid = await create_session(user_id, user_agent=request.headers.get("user-agent", ""))
    return with_session_cookie(Redirect(path=to, status_code=303), sid)


def _refused(err: SignInError) -> Response[Any]:
    return error_page(
        "Sign-in did not complete",
        err.reason,
        400,
        operator_note=f"{type(err).__name__}: {err.reason}",
        back_href="/signin",
        back_label="the sign-in page",
    )


async def _finish(request: Request[Any, Any, Any], ident: ProviderIdentity) -> Response[Any]:
    user_id = await link_identity(ident)
    # Signing in accepts the current Terms and Privacy notice (privacy records it).
    await publish(user_id, SignedIn(method=ident.provider))
    return await start_session(request, user_id)


@get("/auth/google/start", include_in_schema=False)
async def google_start() -> Response[Any]:
    """Off to Google."""
    try:
        return Redirect(path=await google_authorize_url(), status_code=302)
    except SignInError as err:
        return _refused(err)


@get("/auth/google/callback", include_in_schema=False)
async def google_callback(
    request: Request[Any, Any, Any],
    code: str | None = None,
    oauth_state: Annotated[str | None, Parameter(query="state")] = None,
    error: str | None = None,
) -> Response[Any]:
    """Back from Google (`state` is a reserved name in Litestar, hence the alias)."""
    try:
        ident = await google_complete(code, oauth_state, error)
    except SignInError as err:
        return _refused(err)
    return await _finish(request, ident)


@get("/auth/apple/start", include_in_schema=False)
async def apple_start() -> Response[Any]:
    """Off to Apple."""
    try:
        return Redirect(path=await apple_authorize_url(), status_code=302)
    except SignInError as err:
        return _refused(err)


@post("/auth/apple/callback", include_in_schema=False)
async def apple_callback(
    request: Request[Any, Any, Any],
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    """Apple's cross-site form_post: CSRF-exempt, checked by the server-side state instead."""
    try:
        ident = await apple_complete(data)
    except SignInError as err:
        return _refused(err)
    return await _finish(request, ident)


@post("/auth/token", include_in_schema=False)
async def admin_token_sign_in(
    request: Request[Any, Any, Any],
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    """`POST /auth/token` with token=ADMIN_TOKEN: sign in as the seeded admin (automation)."""
    s = get_settings()
    given = data.get("token", "")
    if not s.admin_token or not s.admin_seed_email:
        return error_page("Not available", "Token sign-in is not configured here.", 404)
    if not hmac.compare_digest(given.encode(), s.admin_token.encode()):
        return error_page("Sign-in did not complete", "That token is not valid.", 401)
    user_id = await get_or_create_user(s.admin_seed_email, "Admin")
    await set_role(user_id, "admin")
    return await start_session(
        request, user_id, to="/admin" if _has_admin_page(request) else "/tip"
    )


def _has_admin_page(request: Request[Any, Any, Any]) -> bool:
    return any(r.path == "/admin" for r in request.app.routes)


ROUTES = [google_start, google_callback, apple_start, apple_callback, admin_token_sign_in]
