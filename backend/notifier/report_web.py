"""`/admin/push`: the console's page of push figures (admins only; same data as pushReport)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Response, Template

from backend.notifier import report as report_service
from backend.web import error_page, page_user, sign_in_redirect


@get("/admin/push", include_in_schema=False)
async def push_page(request: Request[Any, Any, Any], days: str = "7") -> Response[Any]:
    """Delivery rates, holds by reason, pushes by outcome."""
    user = await page_user(request)
    if user is None:
        return sign_in_redirect()
    if not user.is_admin:
        return error_page("Admins only", "This page is for the people who run oO.", 403)
    try:
        r = await report_service.report(int(days) if days.isdigit() else -1)
    except report_service.ReportError as err:
        return error_page("That report cannot be shown", err.message, 400)
    return Template(
        template_name="admin/push.html",
        context={"user": user, "r": r, "periods": report_service.PERIOD_DAYS, "section": "push"},
    )


ROUTES = [push_page]
