"""The console pages' one admin check."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Response

from backend.contracts.principal import Principal
from backend.web import error_page, page_user, sign_in_redirect


async def admin_or_refusal(request: Request[Any, Any, Any]) -> Principal | Response[Any]:
    """The signed-in admin, or the answer for anyone else (sign-in redirect, 403 page)."""
    user = await page_user(request)
    if user is None:
        return sign_in_redirect()
    if not user.is_admin:
        return error_page("Admins only", "This page is for the people who run oO.", 403)
    return user
