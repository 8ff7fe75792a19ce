"""The account page: personal API tokens (created, shown once, revoked) and signed-in sessions."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from backend import ratelimit
from backend.identity import service
from backend.identity.browsers import describe_browser
from backend.identity.cookies import SESSION_COOKIE
from backend.settings import get_settings
from backend.web import page_user, sign_in_redirect, too_many_requests

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


async def _page(request: Request[Any, Any, Any], user_id: str, **extra: Any) -> Template:
    sid = request.cookies.get(SESSION_COOKIE)
    return Template(
        template_name="account.html",
        context={
            "tokens": await service.list_api_tokens(user_id),
            "sessions": [
                {
                    "id": s.id,
                    "device": describe_browser(s.user_agent),
                    "created_at": s.created_at,
                    "current": s.current,
                }
                for s in await service.list_sessions(user_id, sid)
            ],
            **extra,
        },
    )


@get("/account", include_in_schema=False)
async def account_page(request: Request[Any, Any, Any]) -> Template | Redirect:
    """Tokens and sessions."""
    user = await page_user(request)
    if user is None:
        return sign_in_redirect()
    return await _page(request, user.user_id, user=user)


@post("/account/tokens", include_in_schema=False)
async def create_token(request: Request[Any, Any, Any], data: Form) -> Template | Redirect:
    """Create a token and show its secret this once."""
    user = await page_user(request)
    if user is None:
        return sign_in_redirect()
    name = data.get("name", "").strip()[:100]
    if not name:
        return await _page(request, user.user_id, user=user, error="Give the token a name.")
    refusal = await ratelimit.hit("tokens", get_settings().rate_tokens, f"account:{user.user_id}")
    if refusal is not None:
        raise too_many_requests(refusal.retry_after_s)
    _, secret = await service.create_api_token(user.user_id, name)
    return await _page(request, user.user_id, user=user, new_secret=secret, new_name=name)


@post("/account/tokens/{token_id:str}/revoke", include_in_schema=False)
async def revoke_token(request: Request[Any, Any, Any], token_id: str) -> Template | Redirect:
    """Revoke a token (immediately)."""
    user = await page_user(request)
    if user is None:
        return sign_in_redirect()
    await service.revoke_api_token(user.user_id, token_id)
    return Redirect(path="/account", status_code=303)


@post("/account/sessions/{session_id:str}/revoke", include_in_schema=False)
async def revoke_session(request: Request[Any, Any, Any], session_id: str) -> Template | Redirect:
    """Sign out one session."""
    user = await page_user(request)
    if user is None:
        return sign_in_redirect()
    await service.revoke_session(user.user_id, session_id)
    return Redirect(path="/account", status_code=303)


ROUTES = [account_page, create_token, revoke_token, revoke_session]
