"""Who may run: an agent runs, and its snippet is used, only if it is enabled, its consent is
granted and no active context silences it. One snapshot per person answers all three."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agents.registry import all_agents
from agents.types import JsonValue, Manifest
from backend.identity.service import live_user_zones
from backend.profile.store import ENABLED_KEY, ContextView, agent_scope, context_view
from backend.profile.tables import (
    AgentOutput,
    Preference,
    ProfileConsent,
    ProfileContext,
    unpack,
)


@dataclass(frozen=True)
class Snapshot:
    """What eligibility and agent runs need to know about one person."""

    user_id: str
    timezone: str
    user_prefs: dict[str, dict[str, JsonValue]] = field(default_factory=dict)
    """scope → key → value, of the values the person set (source 'user') only."""
    revoked: frozenset[str] = frozenset()
    active_context: ContextView | None = None
    output_hashes: dict[str, tuple[str, str]] = field(default_factory=dict)
    """agent id → (agent_version, snippet_hash) of the stored output."""


def ineligible_reason(manifest: Manifest, snap: Snapshot) -> str | None:
    """None when the agent may run for this person, else why not (for logs and the UI)."""
    if not manifest.enabled:
        return "disabled"
    if snap.user_prefs.get(agent_scope(manifest.id), {}).get(ENABLED_KEY) is False:
        return "turned off by the person"
    if manifest.consent_key in snap.revoked:
        return f"consent {manifest.consent_key} revoked"
    ctx = snap.active_context
    if ctx is not None and manifest.id in ctx.silenced_agents:
        return f"silenced by context {ctx.name!r}"
    return None


def eligible_agents(snap: Snapshot) -> list[Manifest]:
    """The registered agents that may run for this person."""
    return [m for m in all_agents() if ineligible_reason(m, snap) is None]


async def snapshots(
    user_ids: Sequence[str], *, full: bool = True, zones: dict[str, str] | None = None
) -> dict[str, Snapshot]:
    """Snapshots of the live users among `user_ids` (a handful of queries for all of them).

    `full=False` reads only what eligibility needs (the fan-out over every active person);
    agent runs read the person's own settings and the stored output hashes too. `zones`: the
    live users' zones when the caller already read them.
    """
    if zones is None:
        zones = await live_user_zones(list(user_ids))
    if not zones:
        return {}
    ids = list(zones)
    prefs: dict[str, dict[str, dict[str, JsonValue]]] = defaultdict(lambda: defaultdict(dict))
    pref_query = Preference.select(
        Preference.user, Preference.scope, Preference.key, Preference.value
    ).where(Preference.user.is_in(ids) & (Preference.source == "user"))
    if not full:
        pref_query = pref_query.where(Preference.key == ENABLED_KEY)
    for row in await pref_query.output(load_json=True):
        prefs[str(row["user"])][row["scope"]][row["key"]] = unpack(row["value"])
    revoked: dict[str, set[str]] = defaultdict(set)
    for row in await ProfileConsent.select(ProfileConsent.user, ProfileConsent.key).where(
        ProfileConsent.user.is_in(ids) & (ProfileConsent.granted == False)  # noqa: E712
    ):
        revoked[str(row["user"])].add(row["key"])
    active: dict[str, ContextView] = {}
    for row in (
        await ProfileContext.select()
        .where(ProfileContext.user.is_in(ids) & (ProfileContext.active == True))  # noqa: E712
        .output(load_json=True)
    ):
        active[str(row["user"])] = context_view(row)
    hashes: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
    if full:
        rows: list[dict[str, Any]] = await AgentOutput.select(
            AgentOutput.user,
            AgentOutput.agent_id,
            AgentOutput.agent_version,
            AgentOutput.snippet_hash,
        ).where(AgentOutput.user.is_in(ids))
        for row in rows:
            hashes[str(row["user"])][row["agent_id"]] = (
                row["agent_version"],
                row["snippet_hash"],
            )
    return {
        uid: Snapshot(
            user_id=uid,
            timezone=zone,
            user_prefs={scope: dict(values) for scope, values in prefs.get(uid, {}).items()},
            revoked=frozenset(revoked.get(uid, ())),
            active_context=active.get(uid),
            output_hashes=hashes.get(uid, {}),
        )
        for uid, zone in zones.items()
    }


async def snapshot(user_id: str) -> Snapshot | None:
    """One person's snapshot (None for an unknown or deleted account)."""
    return (await snapshots([user_id])).get(user_id)
