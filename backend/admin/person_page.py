"""One person's console page: what it shows, and the actions it offers (POSTed forms)."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, post
from litestar.response import Response, Template

from backend.admin import actions
from backend.admin import people as people_service
from backend.admin.guard import admin_or_refusal
from backend.contracts.principal import Principal
from backend.contracts.push_decisions import push_decisions_of
from backend.identity import service as identity
from backend.integrations.status import list_states
from backend.llm import service as llm
from backend.privacy import service as privacy
from backend.profile import service as profile
from backend.recommender import service as recommender
from backend.recommender.activity import recent_decisions
from backend.web import error_page

PUSH_DECISIONS_SHOWN = 30
"""Push checks run every 15 minutes: the last 30 cover most of a day."""


async def person_context(person_id: str) -> dict[str, Any] | None:
    """Everything the page shows about a live person (None: unknown or deleted)."""
    row = await people_service.person_row(person_id) if people_service.is_uuid(person_id) else None
    if row is None:
        return None
    history = await people_service.reward_history(person_id)
    chart = {
        "days": [d.day.isoformat() for d in history],
        "reward": [d.mean_reward for d in history],
        "served": [d.served for d in history],
    }
    return {
        "person": row,
        "history": history,
        "decisions": await recent_decisions(person_id, 50),
        "push_decisions": await push_decisions_of(person_id, PUSH_DECISIONS_SHOWN),
        "chart": json.dumps(chart),
        "integrations": [i for i in await list_states(person_id) if i.status != "disconnected"],
        "tokens": [t for t in await identity.list_api_tokens(person_id) if not t["revoked_at"]],
        "sessions": len(await identity.list_sessions(person_id)),
        "consents": await privacy.consents(person_id),
        "contexts": await profile.contexts(person_id),
        "shown_tip": await recommender.shown_tip(person_id),
        "candidates": (await llm.candidates_for(person_id))[:20],
        "features": await profile.read_features(person_id),
        "outputs": await profile.agent_outputs(person_id),
        "agents": profile.agent_ids(),
        "section": "people",
    }


async def render_person(
    user: Principal, person_id: str, outcome: dict[str, Any] | None = None, status: int = 200
) -> Response[Any]:
    """The page, with the outcome of an action when one was just taken."""
    context = await person_context(person_id)
    if context is None:
        return error_page(
            "No such person", "Nobody with that id (or they deleted their account).", 404
        )
    return Template(
        template_name="admin/user.html",
        context={"user": user, "outcome": outcome, **context},
        status_code=status,
    )


@post("/admin/users/{person_id:str}/actions", include_in_schema=False)
async def person_action(request: Request[Any, Any, Any], person_id: str) -> Response[Any]:
    """Run one action on a person (reason required); the page comes back with its result."""
    user = await admin_or_refusal(request)
    if not isinstance(user, Principal):
        return user
    form = await request.form()
    action = str(form.get("action", ""))
    try:
        result = await actions.run(
            user.user_id,
            person_id,
            action,
            str(form.get("reason", "")),
            str(form.get("argument", "")),
        )
    except actions.ActionRefused as err:
        outcome = {"ok": False, "action": action, "message": err.message}
        return await render_person(
            user, person_id, outcome, 400 if err.code != "NOT_FOUND" else 404
        )
    return await render_person(user, person_id, {"ok": True, "action": action, "message": result})
