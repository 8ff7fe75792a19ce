"""Sign-in pages: the sign-in screen, one-time links, the demo button, sign-out."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from backend.events.bus import publish
from backend.events.contracts import SignedIn
from backend.identity.auth_web import start_session
from backend.identity.cookies import SESSION_COOKIE
from backend.identity.service import (
    DEMO_EMAIL,
    end_session,
    get_or_create_user,
    redeem_sign_in_link,
    why_link_refused,
)
from backend.identity.signin import providers_configured
from backend.settings import get_settings
from backend.web import error_page, page_user

# What a person reads when a sign-in link does not work, by why_link_refused's reason.
LINK_REFUSALS = {
    "unknown": (
        "This link isn't valid",
        "It may have been copied only in part. Ask whoever gave it to you for a new one.",
    ),
    "used": (
        "This link was already used",
        "Each sign-in link works once. Ask for a new one to sign in again.",
    ),
    "expired": (
        "This link has expired",
        "Sign-in links work for a short time only. Ask for a new one.",
    ),
}


@get("/", include_in_schema=False)
async def home(request: Request[Any, Any, Any]) -> Redirect:
    """Signed in → the tip; otherwise sign in."""
    user = await page_user(request)
    return Redirect(path="/tip" if user else "/signin", status_code=303)


@get("/signin", include_in_schema=False)
async def signin_page(request: Request[Any, Any, Any]) -> Template | Redirect:
    """The sign-in screen."""
    if await page_user(request):
        return Redirect(path="/tip", status_code=303)
    return Template(
        template_name="signin.html",
        context={"demo_enabled": get_settings().demo_enabled, "providers": providers_configured()},
    )


@get("/auth/link/{token:str}", include_in_schema=False)
async def redeem_link(request: Request[Any, Any, Any], token: str) -> Response[Any]:
    """A one-time sign-in link: start a fresh session and go to the tip."""
    user_id = await redeem_sign_in_link(token)
    if user_id is None:
        title, message = LINK_REFUSALS[await why_link_refused(token)]
        return error_page(
            title,
            message,
            400,
            operator_note="a sign-in link was refused; `oo demo` prints a fresh one",
        )
    # Signing in accepts the current Terms and Privacy notice (privacy records it).
    await publish(user_id, SignedIn(method="link"))
    return await start_session(request, user_id)


@post("/auth/demo", include_in_schema=False)
async def demo_sign_in(request: Request[Any, Any, Any]) -> Response[Any]:
    """Sign in as the demo user (embedded default only; refused in production)."""
    if not get_settings().demo_enabled:
        return error_page(
            "The demo is not available here",
            "This server does not offer the demo. Sign in another way on the start page.",
            403,
            operator_note="demo sign-in refused: OO_DEMO is off on this server",
        )
    user_id = await get_or_create_user(DEMO_EMAIL, "Demo", is_demo=True)
    # Consent is recorded and the demo tasks seeded (first time) by the event's consumers.
    await publish(user_id, SignedIn(method="demo", demo=True))
    return await start_session(request, user_id)


@post("/auth/signout", include_in_schema=False)
async def sign_out(request: Request[Any, Any, Any]) -> Response[Any]:
    """End this session."""
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        await end_session(sid)
    response = Redirect(path="/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


ROUTES = [home, signin_page, redeem_link, demo_sign_in, sign_out]
