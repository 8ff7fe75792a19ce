"""The console's pages: overview, people, one person, audit log (admins only; HTMX-enhanced
server-rendered HTML reading the same services as the admin GraphQL fields)."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, get
from litestar.response import Response, Template

from backend import audit
from backend.admin import overview as overview_service
from backend.admin import people as people_service
from backend.admin.guard import admin_or_refusal
from backend.admin.person_page import person_action, render_person
from backend.contracts.principal import Principal
from backend.web import error_page

PERIODS = {"LAST_24H": "24 h", "LAST_7D": "7 days", "LAST_30D": "30 days", "LAST_90D": "90 days"}
ORDERS = {
    "SIGNED_UP": "Signed up",
    "LAST_SEEN": "Last seen",
    "TIPS": "Tips",
    "REACTIONS": "Reactions",
    "MEAN_REWARD": "Mean reward",
    "SOURCES": "Sources",
}
AUDIT_PAGE = 50


@get("/admin", include_in_schema=False)
async def overview_page(request: Request[Any, Any, Any], period: str = "LAST_7D") -> Response[Any]:
    """KPIs with their change, tips and reactions per day, the activation funnel."""
    user = await admin_or_refusal(request)
    if not isinstance(user, Principal):
        return user
    if period not in PERIODS:
        return error_page("Unknown period", f"Choose one of: {', '.join(PERIODS.values())}.", 400)
    o = await overview_service.overview(period)
    chart = {
        "days": [d.day.isoformat() for d in o.days],
        "series": {
            "Done": [d.done for d in o.days],
            "Snoozed": [d.snoozed for d in o.days],
            "Dismissed": [d.dismissed for d in o.days],
        },
        "served": [d.served for d in o.days],
    }
    return Template(
        template_name="admin/overview.html",
        context={
            "user": user,
            "o": o,
            "periods": PERIODS,
            "chart": json.dumps(chart),
            "section": "overview",
        },
    )


@get("/admin/users", include_in_schema=False)
async def people_page(
    request: Request[Any, Any, Any],
    q: str = "",
    order: str = "LAST_SEEN",
    direction: str = "desc",
    after: str | None = None,
) -> Response[Any]:
    """Search, sort and page through people."""
    user = await admin_or_refusal(request)
    if not isinstance(user, Principal):
        return user
    try:
        page = await people_service.people(q, 50, after, order, direction != "asc")
    except people_service.AdminError as err:
        return error_page("That list cannot be shown", err.message, 400)
    return Template(
        template_name="admin/users.html",
        context={
            "user": user,
            "page": page,
            "q": q,
            "order": order,
            "direction": direction,
            "orders": ORDERS,
            "next_cursor": people_service.cursor_of(page.offset + len(page.rows))
            if page.has_next
            else None,
            "section": "people",
        },
    )


@get("/admin/users/{person_id:str}", include_in_schema=False)
async def person_page(request: Request[Any, Any, Any], person_id: str) -> Response[Any]:
    """One person: figures, reward history, decisions, connections, profile, actions."""
    user = await admin_or_refusal(request)
    if not isinstance(user, Principal):
        return user
    return await render_person(user, person_id)


@get("/admin/audit", include_in_schema=False)
async def audit_page(
    request: Request[Any, Any, Any], action: str = "", target: str = "", after: str | None = None
) -> Response[Any]:
    """Every admin action: who, when, what, on what, why."""
    user = await admin_or_refusal(request)
    if not isinstance(user, Principal):
        return user
    try:
        offset = people_service.offset_of(after, "audit")
    except people_service.AdminError as err:
        return error_page("That list cannot be shown", err.message, 400)
    entries = await audit.recent(AUDIT_PAGE + 1, action or None, target or None, None, offset)
    return Template(
        template_name="admin/audit.html",
        context={
            "user": user,
            "entries": entries[:AUDIT_PAGE],
            "action": action,
            "target": target,
            "next_cursor": people_service.cursor_of(offset + AUDIT_PAGE, "audit")
            if len(entries) > AUDIT_PAGE
            else None,
            "section": "audit",
        },
    )


ROUTES = [overview_page, people_page, person_page, person_action, audit_page]
