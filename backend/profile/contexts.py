"""Named contexts ("work", "holiday"): while one is active it silences agents and tip kinds."""

from __future__ import annotations

from datetime import UTC, datetime

from agents.registry import all_agents
from backend.db import write_transaction
from backend.profile.store import (
    TIP_KINDS,
    ContextView,
    ProfileError,
    context_view,
    profile_changed,
)
from backend.profile.tables import ProfileContext


async def contexts(user_id: str) -> list[ContextView]:
    """The person's contexts, by name."""
    rows = (
        await ProfileContext.select()
        .where(ProfileContext.user == user_id)
        .order_by(ProfileContext.name)
        .output(load_json=True)
    )
    return [context_view(r) for r in rows]


def _clean_name(name: str) -> str:
    cleaned = " ".join((name or "").split())
    if not 1 <= len(cleaned) <= 60:
        raise ProfileError("INVALID_NAME", "A context name has 1 to 60 characters.", "name")
    return cleaned


async def upsert_context(
    user_id: str,
    name: str,
    silenced_agents: list[str] | None = None,
    silenced_kinds: list[str] | None = None,
) -> ContextView:
    """Create a context or replace what an existing one (same name) silences."""
    cleaned = _clean_name(name)
    agents = list(dict.fromkeys(silenced_agents or []))
    kinds = list(dict.fromkeys(k.lower() for k in silenced_kinds or []))
    known = {m.id for m in all_agents()}
    for agent_id in agents:
        if agent_id not in known:
            raise ProfileError(
                "UNKNOWN_AGENT",
                f"No agent {agent_id!r}; known: {', '.join(sorted(known))}.",
                "silencedAgents",
            )
    for kind in kinds:
        if kind not in TIP_KINDS:
            raise ProfileError(
                "UNKNOWN_KIND", f"Tip kinds are {', '.join(TIP_KINDS)}.", "silencedKinds"
            )
    now = datetime.now(UTC)
    async with write_transaction():
        existing = (
            await ProfileContext.select(ProfileContext.id)
            .where((ProfileContext.user == user_id) & (ProfileContext.name == cleaned))
            .first()
        )
        if existing is None:
            await ProfileContext(
                user=user_id,
                name=cleaned,
                silenced_agents=agents,
                silenced_kinds=kinds,
                updated_at=now,
            ).save()
        else:
            await ProfileContext.update(
                {
                    ProfileContext.silenced_agents: agents,
                    ProfileContext.silenced_kinds: kinds,
                    ProfileContext.updated_at: now,
                }
            ).where(ProfileContext.id == existing["id"])
    await profile_changed(user_id, "context")
    return next(c for c in await contexts(user_id) if c.name == cleaned)


async def activate_context(user_id: str, name: str, active: bool = True) -> ContextView:
    """Make a context the active one (at most one is), or deactivate it."""
    cleaned = _clean_name(name)
    now = datetime.now(UTC)
    async with write_transaction():
        row = (
            await ProfileContext.select(ProfileContext.id)
            .where((ProfileContext.user == user_id) & (ProfileContext.name == cleaned))
            .first()
        )
        if row is None:
            raise ProfileError("NOT_FOUND", f"No context named {cleaned!r}.", "name")
        if active:
            await ProfileContext.update(
                {ProfileContext.active: False, ProfileContext.updated_at: now}
            ).where((ProfileContext.user == user_id) & (ProfileContext.active == True))  # noqa: E712
        await ProfileContext.update(
            {ProfileContext.active: active, ProfileContext.updated_at: now}
        ).where(ProfileContext.id == row["id"])
    await profile_changed(user_id, "context")
    return next(c for c in await contexts(user_id) if c.name == cleaned)
