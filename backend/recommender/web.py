"""The black tip page: one tip with the answers of its kind (answers.py); the next tip swaps in
with htmx."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from backend.contracts.principal import Principal
from backend.recommender import answers, service
from backend.recommender.reward import Action
from backend.web import error_page, page_user, sign_in_redirect

PRIORITY_WORDS = {4: "urgent", 3: "high priority", 2: "medium priority"}


def tip_meta(view: service.TipView, today: date) -> list[str]:
    """The discreet line under a tip: project, when it is due, how urgent — less what the tip's
    phrasing (first_tip.py) already says, so the page never says it twice."""
    parts: list[str] = []
    detail = view.detail
    said = str(detail.get("phrasing") or "")
    if detail.get("project") and f" from {detail['project']} " not in said:
        parts.append(str(detail["project"]))
    due_raw = detail.get("due_date")
    if isinstance(due_raw, str) and not said.endswith(("due today.", "due tomorrow.", "overdue.")):
        due = date.fromisoformat(due_raw)
        days = (today - due).days
        if days > 0:
            parts.append(f"overdue {days} day{'s' if days != 1 else ''}")
        elif days == 0:
            parts.append("due today")
        elif days == -1:
            parts.append("due tomorrow")
        else:
            parts.append(f"due {due.strftime('%a %-d %b')}")
    if detail.get("is_recurring"):
        parts.append("repeats")
    word = PRIORITY_WORDS.get(int(detail.get("priority", 1)))
    if word:
        parts.append(word)
    return parts


def _tip_context(view: service.TipView | None, notice: str = "") -> dict[str, Any]:
    meta = tip_meta(view, datetime.now(UTC).date()) if view else []
    why = str(view.explanation.get("line") or "") if view else ""
    # Sent back with the reaction: a double submit (or a retry after a lost answer) then gets
    # the stored answer instead of "already answered".
    request_id = uuid.uuid4().hex
    return {
        "tip": view,
        "meta": meta,
        "notice": notice,
        "why": why,
        "request_id": request_id,
        "answers": answers.answers_for(view.kind) if view else (),
        "kind_label": answers.KIND_LABELS.get(view.kind, view.kind) if view else "",
    }


@get("/tip", include_in_schema=False)
async def tip_page(request: Request[Any, Any, Any]) -> Template | Redirect:
    """The tip page (full page; the tip itself is the `tip` block)."""
    user = await page_user(request)
    if user is None:
        return sign_in_redirect()
    view = await service.current_tip(user)
    return Template(template_name="tip.html", context=_tip_context(view))


def _parse_dwell(raw: str | None) -> int | None:
    if raw is None or raw.strip() == "":
        return None
    try:
        return int(float(raw))
    except ValueError:
        return -1  # rejected by the service as INVALID_DWELL


@post("/tip/{tip_id:str}/react", include_in_schema=False)
async def react(
    request: Request[Any, Any, Any],
    tip_id: str,
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template | Redirect:
    """Record the answer to a tip (one of its kind's) and answer with the next tip."""
    user: Principal | None = await page_user(request)
    if user is None:
        return sign_in_redirect()
    htmx = request.headers.get("hx-request") == "true"
    try:
        action = Action(data.get("action", ""))
    except ValueError:
        return error_page("Unknown answer", "Choose one of the tip's buttons.", 400)
    notice = ""
    try:
        await service.react(
            user,
            tip_id,
            action,
            _parse_dwell(data.get("dwell_ms")),
            (data.get("request_id") or "")[:80] or None,
        )
    except service.ReactionError as err:
        if not htmx:
            return error_page("That did not work", err.message, 400)
        notice = err.message
    if not htmx:
        return Redirect(path="/tip", status_code=303)
    view = await service.next_tip_or_none(user)
    return HTMXBlockTemplate(
        template_name="tip.html", block_name="tip", context=_tip_context(view, notice)
    )


ROUTES = [tip_page, react]
