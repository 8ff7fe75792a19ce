"""The settings page: what oO inferred and from what, overrides, consents, contexts (HTMX)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from backend.contracts.principal import Principal
from backend.profile import service, store
from backend.profile.store import TIP_KINDS
from backend.web import page_user, sign_in_redirect

PAGE = "settings.html"
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def show(value: Any, key: str = "") -> str:
    """A value as people read it: hours as 09:00, lists joined, objects as key: value."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "on" if value else "off"
    if key in {"preferred_hour", "quiet_start", "quiet_end"} and isinstance(value, int):
        return f"{value:02d}:00"
    if key == "peak_hours" and isinstance(value, list):
        return ", ".join(f"{int(h):02d}:00" for h in value) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    if isinstance(value, dict):
        if set(value) == {"peak", "strength"}:
            peak = value["peak"]
            return f"{peak} (strength {value['strength']})" if peak else "no rhythm yet"
        return ", ".join(f"{k}: {v}" for k, v in value.items()) or "none"
    return str(value)


def editable(value: Any, key: str) -> str:
    """The text the override field starts with (parsed back by `parse`)."""
    if key == "peak_hours" and isinstance(value, list):
        return ", ".join(str(h) for h in value)
    if isinstance(value, str):
        return value
    return json.dumps(value)


async def _context(user: Principal, notice: str = "", notice_for: str = "") -> dict[str, Any]:
    return {
        "user": user,
        "agents": await service.agent_overview(user.user_id),
        "consents": {c.key: c for c in await service.consents(user.user_id)},
        "contexts": await service.contexts(user.user_id),
        "kinds": TIP_KINDS,
        "notice": notice,
        "notice_for": notice_for,
        "show": show,
        "editable": editable,
    }


def _render(request: Request[Any, Any, Any], block: str, context: dict[str, Any]) -> Any:
    if request.headers.get("hx-request") == "true":
        return HTMXBlockTemplate(template_name=PAGE, block_name=block, context=context)
    return Redirect(path="/settings", status_code=303)


@get("/settings", include_in_schema=False)
async def settings_page(request: Request[Any, Any, Any]) -> Template | Redirect:
    """The whole settings page."""
    user = await page_user(request)
    if user is None:
        return sign_in_redirect()
    return Template(template_name=PAGE, context=await _context(user))


@post("/settings/preference", include_in_schema=False)
async def set_preference(request: Request[Any, Any, Any], data: Form) -> Any:
    """Override an agent's value (action=set) or go back to the inferred one (action=reset)."""
    user = await page_user(request)
    if user is None:
        return sign_in_redirect()
    agent_id, key = str(data.get("agent", "")), str(data.get("key", ""))
    notice = ""
    try:
        service.check_scope(service.agent_scope(agent_id))
        value = (
            None
            if data.get("action") == "reset"
            else store.parse_param_text(agent_id, key, data.get("value", ""))
        )
        await service.set_preferences(user.user_id, service.agent_scope(agent_id), {key: value})
    except KeyError:
        notice = f"{key!r} is not a setting of this agent."
    except service.ProfileError as err:
        notice = err.message
    return _render(request, "agents", await _context(user, notice, agent_id))


@post("/settings/consent", include_in_schema=False)
async def set_consent(request: Request[Any, Any, Any], data: Form) -> Any:
    """Flip a consent switch."""
    user = await page_user(request)
    if user is None:
        return sign_in_redirect()
    notice = ""
    try:
        await service.set_consent(
            user.user_id, str(data.get("key", "")), data.get("granted") in {"on", "true"}
        )
    except service.ProfileError as err:
        notice = err.message
    return _render(request, "agents", await _context(user, notice, "consent"))


def _many(data: dict[str, Any], name: str) -> list[str]:
    value = data.get(name)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


@post("/settings/context", include_in_schema=False)
async def save_context(request: Request[Any, Any, Any], data: Form) -> Any:
    """Create or change a context (action=save), or switch it on or off."""
    user = await page_user(request)
    if user is None:
        return sign_in_redirect()
    notice = ""
    name = str(data.get("name", ""))
    try:
        action = data.get("action", "save")
        if action == "save":
            await service.upsert_context(
                user.user_id, name, _many(data, "agents"), _many(data, "kinds")
            )
        else:
            await service.activate_context(user.user_id, name, action == "activate")
    except service.ProfileError as err:
        notice = err.message
    return _render(request, "contexts", await _context(user, notice, "contexts"))


ROUTES = [settings_page, set_preference, set_consent, save_context]
