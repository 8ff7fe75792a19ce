"""The console's live pages: the event tail and health, streamed as HTML over SSE.

Each stream runs the GraphQL subscription an outside tool would (backend/graphql/streaming.py)
as the signed-in admin, and renders every result as a fragment the htmx sse extension swaps in.
The browser reconnects by itself; it sends the last event id it got, and the tail resumes
from there without a gap (`after`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, get, post
from litestar.response import Response, ServerSentEvent, ServerSentEventMessage, Template

from backend.admin import actions
from backend.admin.guard import admin_or_refusal
from backend.contracts.principal import Principal
from backend.events.graphql import EVENT_ID, MAX_LAST
from backend.graphql.streaming import query_result, subscription_results
from backend.web import error_page

WINDOWS = {"": "All kept", "5m": "5 minutes", "1h": "1 hour", "24h": "24 hours"}
WINDOW_S = {"5m": 300, "1h": 3600, "24h": 86400}
DEFAULT_BACKFILL = 50

TAIL = """subscription Tail($subjects: [String!], $userId: ID, $after: String, $last: Int) {
  events(subjects: $subjects, userId: $userId, after: $after, last: $last) {
    id subject userId at payload replayedFrom
  }
}"""

HEALTH_FIELDS = """health {
    status checkedAt
    components { name status reason figures { label value }
      instances { role id version uptimeSeconds heartbeatAgeSeconds figures { label value } } }
  }"""
HEALTH = f"subscription Health {{ {HEALTH_FIELDS} }}"
HEALTH_NOW = f"query Health {{ {HEALTH_FIELDS} }}"


def _tail_variables(
    subjects: str, user: str, window: str, last: int, resume_after: str | None
) -> dict[str, Any]:
    prefixes = [s.strip() for s in subjects.split(",") if s.strip()]
    after = resume_after
    if after is None and window in WINDOW_S:
        after = f"{int((time.time() - WINDOW_S[window]) * 1000)}-0"
    return {
        "subjects": [p if p.endswith("*") else f"{p}*" for p in prefixes] or None,
        "userId": user.strip() or None,
        "after": after,
        # Resuming (the browser reconnected): everything after its last event, no backfill.
        "last": None if resume_after else last,
    }


def _render(request: Request[Any, Any, Any], template: str, **context: Any) -> str:
    engine = request.app.template_engine
    if engine is None:  # create_app always configures one
        raise RuntimeError("no template engine")
    return str(engine.get_template(template).render(**context))


@get("/admin/events", include_in_schema=False)
async def events_page(
    request: Request[Any, Any, Any],
    subjects: str = "",
    user: str = "",
    window: str = "",
    last: int = DEFAULT_BACKFILL,
) -> Response[Any]:
    """The live tail: filters, pause/resume, a backfill on open, detail and replay."""
    admin = await admin_or_refusal(request)
    if not isinstance(admin, Principal):
        return admin
    if window not in WINDOWS or not 0 <= last <= MAX_LAST:
        return error_page(
            "That tail cannot be shown",
            f"Choose a window of {', '.join(WINDOWS.values())} and a backfill of 0–{MAX_LAST}.",
            400,
        )
    query = request.url.query or ""
    return Template(
        template_name="admin/events.html",
        context={
            "user": admin,
            "subjects": subjects,
            "person": user,
            "window": window,
            "windows": WINDOWS,
            "last": last,
            "stream_url": "/admin/events/stream" + (f"?{query}" if query else ""),
            "section": "events",
            "live": True,
        },
    )


@get("/admin/events/stream", include_in_schema=False)
async def events_stream(
    request: Request[Any, Any, Any],
    subjects: str = "",
    user: str = "",
    window: str = "",
    last: int = DEFAULT_BACKFILL,
) -> Response[Any] | ServerSentEvent:
    """Server-sent events: one rendered row per event (`event`), or the error (`tail-error`)."""
    admin = await admin_or_refusal(request)
    if not isinstance(admin, Principal):
        return admin
    resume = request.headers.get("last-event-id")
    variables = _tail_variables(
        subjects,
        user,
        window,
        min(max(last, 0), MAX_LAST),
        resume if resume and EVENT_ID.fullmatch(resume) else None,
    )

    async def rows() -> AsyncIterator[ServerSentEventMessage]:
        async for result in subscription_results(request, TAIL, variables):
            if result.errors:
                message = result.errors[0].message
                yield ServerSentEventMessage(
                    event="tail-error",
                    data=_render(request, "admin/_tail_error.html", message=message),
                )
                return
            event = (result.data or {})["events"]
            yield ServerSentEventMessage(
                event="event",
                id=event["id"],
                data=_render(request, "admin/_event_row.html", e=event),
            )

    return ServerSentEvent(rows(), headers={"Cache-Control": "no-store"})


@post("/admin/events/replay", include_in_schema=False)
async def replay(request: Request[Any, Any, Any]) -> Response[Any]:
    """Re-publish one event (reason required, audit-logged); answers with the outcome."""
    admin = await admin_or_refusal(request)
    if not isinstance(admin, Principal):
        return admin
    form = await request.form()
    event_id = str(form.get("event_id", ""))
    try:
        new_id = await actions.replay_event(admin.user_id, event_id, str(form.get("reason", "")))
    except actions.ActionRefused as err:
        return Template(
            template_name="admin/_replay_outcome.html",
            context={"ok": False, "message": err.message, "event_id": event_id},
            status_code=404 if err.code == "NOT_FOUND" else 400,
        )
    return Template(
        template_name="admin/_replay_outcome.html",
        context={"ok": True, "message": f"Replayed as {new_id}.", "event_id": event_id},
    )


@get("/admin/health", include_in_schema=False)
async def health_page(request: Request[Any, Any, Any]) -> Response[Any]:
    """Every part's status and reason; live through the `health` subscription."""
    admin = await admin_or_refusal(request)
    if not isinstance(admin, Principal):
        return admin
    result = await query_result(request, HEALTH_NOW)
    if result.errors or not result.data:
        return error_page("Health cannot be shown", "The rollup failed; try again.", 500)
    return Template(
        template_name="admin/health.html",
        context={"user": admin, "h": result.data["health"], "section": "health", "live": True},
    )


@get("/admin/health/stream", include_in_schema=False)
async def health_stream(request: Request[Any, Any, Any]) -> Response[Any] | ServerSentEvent:
    """Server-sent events: the rendered rollup (`health`) each time the subscription pushes."""
    admin = await admin_or_refusal(request)
    if not isinstance(admin, Principal):
        return admin

    async def panels() -> AsyncIterator[ServerSentEventMessage]:
        async for result in subscription_results(request, HEALTH):
            if result.errors:
                yield ServerSentEventMessage(
                    event="health",
                    data=_render(
                        request, "admin/_tail_error.html", message=result.errors[0].message
                    ),
                )
                return
            yield ServerSentEventMessage(
                event="health",
                data=_render(request, "admin/_health_panel.html", h=(result.data or {})["health"]),
            )

    return ServerSentEvent(panels(), headers={"Cache-Control": "no-store"})


ROUTES = [events_page, events_stream, replay, health_page, health_stream]
