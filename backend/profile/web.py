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
HOUR_KEYS = frozenset({"preferred_hour", "quiet_start", "quiet_end"})
PROFILE_KEYS = frozenset({"hour_profile", "hour_profile_weekend"})
KIND_NAMES = {
    "task": "Tasks",
    "advice": "Advice",
    "insight": "Insights",
    "reminder": "Reminders",
}


def control(value: Any, key: str) -> str:
    """Which control edits this value: time, hours (chips), toggle, number, words, or none
    (a learned shape such as a weekly rhythm is shown, not typed in)."""
    if key in HOUR_KEYS:
        return "time"
    if key == "peak_hours":
        return "hours"
    if isinstance(value, bool):
        return "toggle"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    ):
        return "words"
    return "none"


def quiets(context: Any, names: dict[str, str]) -> str:
    """What a context quiets, in names people read ("Momentum, Tasks")."""
    words = [names.get(a, a) for a in context.silenced_agents]
    words += [KIND_NAMES.get(k, k) for k in context.silenced_kinds]
    return ", ".join(words) or "nothing"


def why_off(reason: str | None, names: dict[str, str]) -> str:
    """An agent's ineligibility in a person's words."""
    if reason is None:
        return ""
    if reason.startswith("consent "):
        return "Off: you switched it off."
    if reason.startswith("silenced by context "):
        return f"Resting while {reason.removeprefix('silenced by context ')} is on."
    if reason == "turned off by the person":
        return "Off: you switched it off."
    return "Off on this server."


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
    if key in PROFILE_KEYS and isinstance(value, list):
        return _busiest_hours(value)
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


def _busiest_hours(profile: list[Any]) -> str:
    """An hour profile (24 shares of the busiest hour) as people read it: its busiest hours,
    not 24 numbers."""
    values = [float(v) for v in profile if isinstance(v, int | float)]
    if len(values) != 24 or max(values) - min(values) < 1e-9:
        return "not known yet"
    top = sorted(range(24), key=lambda h: -values[h])[:3]
    busiest = [f"{h:02d}:00" for h in sorted(top) if values[h] >= 0.5 * max(values)]
    return "busiest around " + ", ".join(busiest)


def editable(value: Any, key: str) -> str:
    """The text the control starts with (parsed back by `store.parse_param_text`)."""
    if key in HOUR_KEYS and isinstance(value, int):
        return f"{value:02d}:00"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return value
    return json.dumps(value)


async def _context(
    user: Principal,
    notice: str = "",
    notice_for: str = "",
    refused: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`refused`: what a person sent that was not stored (agent, key or form, their values,
    the message), so the page shows it again beside its field instead of losing it."""
    agents = await service.agent_overview(user.user_id)
    names = {a.manifest.id: a.manifest.name for a in agents}
    return {
        "user": user,
        "agents": agents,
        "agent_names": names,
        "consents": {c.key: c for c in await service.consents(user.user_id)},
        "contexts": await service.contexts(user.user_id),
        "kinds": [(k, KIND_NAMES.get(k, k.capitalize())) for k in TIP_KINDS],
        "agents_options": list(names.items()),
        "hour_options": [(str(h), f"{h:02d}:00") for h in range(24)],
        "quiets": lambda c: quiets(c, names),
        "notice": notice,
        "notice_for": notice_for,
        "refused": refused or {},
        "show": show,
        "editable": editable,
        "control": control,
        "why_off": lambda reason: why_off(reason, names),
    }


def _hour_text(raw: str) -> str:
    """A time picker's "21:00" as the hour the agent stores ("21"); other text unchanged."""
    text = raw.strip()
    hours, _, minutes = text.partition(":")
    if minutes and hours.isdigit() and minutes.isdigit():
        return str(int(hours))
    return text


def _value_text(data: dict[str, Any], key: str) -> str:
    """The submitted value as text: chips arrive as several values, a time as HH:MM."""
    raw = data.get("value", "")
    if isinstance(raw, list):
        return ", ".join(str(v) for v in raw)
    return _hour_text(str(raw)) if key in HOUR_KEYS else str(raw)


def _in_words(message: str, key: str, description: str) -> str:
    """A check's "quiet_start: must be …" with the setting's own name instead of its key."""
    prefix = f"{key}: "
    return (
        f"{description}: {message.removeprefix(prefix)}" if message.startswith(prefix) else message
    )


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
    text = _value_text(data, key)
    refused: dict[str, Any] = {}
    try:
        service.check_scope(service.agent_scope(agent_id))
        value = (
            None if data.get("action") == "reset" else store.parse_param_text(agent_id, key, text)
        )
        await service.set_preferences(user.user_id, service.agent_scope(agent_id), {key: value})
    except KeyError:
        refused = {"agent": agent_id, "key": key, "text": text, "message": "Not a setting here."}
    except service.ProfileError as err:
        rows = [a for a in await service.agent_overview(user.user_id) if a.manifest.id == agent_id]
        labels = {p.key: p.description for a in rows for p in a.params}
        message = _in_words(err.message, key, labels.get(key, key))
        refused = {"agent": agent_id, "key": key, "text": text, "message": message}
    return _render(request, "agents", await _context(user, "", agent_id, refused))


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
    name = str(data.get("name", ""))
    refused: dict[str, Any] = {}
    try:
        action = data.get("action", "save")
        if action == "save":
            await service.upsert_context(
                user.user_id, name, _many(data, "agents"), _many(data, "kinds")
            )
        else:
            await service.activate_context(user.user_id, name, action == "activate")
    except service.ProfileError as err:
        refused = {
            "form": "context",
            "name": name[:200],
            "agents": _many(data, "agents"),
            "kinds": _many(data, "kinds"),
            "message": err.message,
        }
    return _render(request, "contexts", await _context(user, "", "contexts", refused))


ROUTES = [settings_page, set_preference, set_consent, save_context]
