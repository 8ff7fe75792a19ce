"""Preferences, consents and contexts: what the person told us, validated and stored.

Agents' consents default to granted: agents only read what oO already holds (reactions and
completions), which the person accepted on sign-in (implicit consent, SEED_NOTES); each key
can be revoked here at any time and revoking takes effect at once (see `set_consent`). Opt-in
keys (`OPT_IN_CONSENTS`, e.g. learning from everyone) are off until granted.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agents.registry import all_agents, consent_keys, get_agent
from agents.types import JsonValue
from backend.contracts.consent import LEARNING_EVERYONE
from backend.contracts.errors import Refused
from backend.db import write_transaction
from backend.events.bus import publish
from backend.events.contracts import ProfileChanged
from backend.profile.tables import (
    AgentOutput,
    Preference,
    ProfileConsent,
    pack,
    unpack,
)

GLOBAL = "global"
AGENT_SCOPE = "agent:"
ENABLED_KEY = "enabled"
TIP_KINDS = ("task", "advice", "insight", "reminder")
MAX_KEYS_PER_UPDATE = 50
MAX_VALUE_BYTES = 2000
_KEY = re.compile(r"^[a-z][a-z0-9_.-]{0,79}$")


class ProfileError(Refused):
    """Bad input for a profile change; nothing was stored."""


@dataclass(frozen=True)
class PreferenceView:
    """One stored preference."""

    scope: str
    key: str
    value: JsonValue
    source: str  # "user" | "inferred"
    evidence: int
    updated_at: datetime


@dataclass(frozen=True)
class ConsentView:
    """One consent key and its state (defaults filled in for keys never touched)."""

    key: str
    granted: bool
    granted_at: datetime | None
    revoked_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True)
class ContextView:
    """A named context."""

    id: str
    name: str
    silenced_agents: tuple[str, ...]
    silenced_kinds: tuple[str, ...]
    active: bool
    updated_at: datetime


async def profile_changed(user_id: str, what: str) -> None:
    """Tell the bus a consent, context or setting changed (llm re-checks its written tips)."""
    await publish(user_id, ProfileChanged(what=what))


def agent_scope(agent_id: str) -> str:
    """The preference scope of one agent."""
    return AGENT_SCOPE + agent_id


def _pref_view(row: dict[str, Any]) -> PreferenceView:
    return PreferenceView(
        scope=row["scope"],
        key=row["key"],
        value=unpack(row["value"]),
        source=row["source"],
        evidence=int(row["evidence"] or 0),
        updated_at=row["updated_at"],
    )


def context_view(row: dict[str, Any]) -> ContextView:
    return ContextView(
        id=str(row["id"]),
        name=row["name"],
        silenced_agents=tuple(row["silenced_agents"] or ()),
        silenced_kinds=tuple(row["silenced_kinds"] or ()),
        active=bool(row["active"]),
        updated_at=row["updated_at"],
    )


# Preferences ------------------------------------------------------------------------------


async def preferences(user_id: str, scope: str | None = None) -> list[PreferenceView]:
    """The person's stored preferences (of one scope, or all), by scope then key."""
    query = Preference.select().where(Preference.user == user_id)
    if scope is not None:
        query = query.where(Preference.scope == scope)
    rows = await query.order_by(Preference.scope).order_by(Preference.key).output(load_json=True)
    return [_pref_view(r) for r in rows]


def _check_value(scope: str, key: str, value: JsonValue) -> None:
    field = f"values.{key}"
    try:
        encoded = json.dumps(value)
    except (TypeError, ValueError):
        raise ProfileError("INVALID_VALUE", f"{key}: not a JSON value.", field) from None
    if len(encoded) > MAX_VALUE_BYTES:
        raise ProfileError("INVALID_VALUE", f"{key}: at most {MAX_VALUE_BYTES} bytes.", field)
    if not scope.startswith(AGENT_SCOPE):
        return
    manifest = get_agent(scope.removeprefix(AGENT_SCOPE))
    if key == ENABLED_KEY:
        if not isinstance(value, bool):
            raise ProfileError("INVALID_VALUE", "enabled must be true or false.", field)
        return
    try:
        spec = manifest.param(key)
    except KeyError:
        known = ", ".join([ENABLED_KEY, *(p.key for p in manifest.params)])
        raise ProfileError(
            "UNKNOWN_KEY", f"{manifest.name} has no setting {key!r} (known: {known}).", field
        ) from None
    problem = spec.check(value)
    if problem:
        raise ProfileError("INVALID_VALUE", f"{key}: {problem}", field)


def check_scope(scope: str) -> None:
    """Raise ProfileError unless `scope` is 'global' or 'agent:<known agent id>'."""
    if scope == GLOBAL:
        return
    agent_id = scope.removeprefix(AGENT_SCOPE)
    if scope.startswith(AGENT_SCOPE):
        try:
            get_agent(agent_id)
            return
        except KeyError:
            pass
    known = ", ".join(agent_scope(m.id) for m in all_agents())
    raise ProfileError("UNKNOWN_SCOPE", f"Scope must be global or one of {known}.", "scope")


async def set_preferences(
    user_id: str, scope: str, values: dict[str, JsonValue]
) -> list[PreferenceView]:
    """Set values as the person's own (source 'user'); a null value resets the key.

    Resetting removes the person's value; an agent's key goes back to what the agent last
    inferred (from its latest output) so the settings page never shows a gap. All keys are
    checked before anything is written: one bad key rejects the whole update.
    """
    check_scope(scope)
    if not isinstance(values, dict) or not values:
        raise ProfileError("INVALID_VALUE", "Give at least one key to set.", "values")
    if len(values) > MAX_KEYS_PER_UPDATE:
        raise ProfileError(
            "INVALID_VALUE", f"At most {MAX_KEYS_PER_UPDATE} keys at once.", "values"
        )
    for key, value in values.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise ProfileError(
                "INVALID_KEY",
                "Keys are lower-case letters, digits, '_', '-' or '.', up to 80 characters.",
                f"values.{key}",
            )
        if value is not None:
            _check_value(scope, key, value)
    now = datetime.now(UTC)
    inferred = await _last_inferred(user_id, scope)
    async with write_transaction():
        for key, value in values.items():
            await Preference.delete().where(
                (Preference.user == user_id) & (Preference.scope == scope) & (Preference.key == key)
            )
            if value is not None:
                row = Preference(
                    user=user_id,
                    scope=scope,
                    key=key,
                    value=pack(value),
                    source="user",
                    updated_at=now,
                )
            elif key in inferred:
                value, evidence = inferred[key]
                row = Preference(
                    user=user_id,
                    scope=scope,
                    key=key,
                    value=pack(value),
                    source="inferred",
                    evidence=evidence,
                    updated_at=now,
                )
            else:
                continue
            await row.save()
    await profile_changed(user_id, "preferences")
    return await preferences(user_id, scope)


async def _last_inferred(user_id: str, scope: str) -> dict[str, tuple[JsonValue, int]]:
    if not scope.startswith(AGENT_SCOPE):
        return {}
    row = (
        await AgentOutput.select(AgentOutput.params, AgentOutput.evidence)
        .where(
            (AgentOutput.user == user_id)
            & (AgentOutput.agent_id == scope.removeprefix(AGENT_SCOPE))
        )
        .output(load_json=True)
        .first()
    )
    if row is None or not isinstance(row["params"], dict):
        return {}
    inferred = row["params"].get("inferred") or {}
    return {k: (v, int(row["evidence"] or 0)) for k, v in inferred.items()}


# Consents -----------------------------------------------------------------------------------


OPT_IN_CONSENTS = (LEARNING_EVERYONE,)
"""Keys that are off until the person grants them: they share something beyond oO's own use of
their data (learning from everyone pools their reactions into a model that serves other people),
so implicit consent does not cover them."""


def known_consents() -> tuple[str, ...]:
    """Consent keys a person can grant or revoke."""
    return (*consent_keys(), *OPT_IN_CONSENTS)


def granted_by_default(key: str) -> bool:
    """Whether a key nobody touched counts as granted (agents' keys) or not (opt-ins)."""
    return key not in OPT_IN_CONSENTS


async def people_granting(key: str) -> frozenset[str]:
    """Ids of the people who granted an opt-in key (registered as the consent port's reader).

    Only opt-in keys are answered: for the other keys an untouched row means granted, and
    listing everyone is not what any reader needs.
    """
    if key not in OPT_IN_CONSENTS:
        raise ProfileError("UNKNOWN_CONSENT", f"{key!r} is not an opt-in consent.", "key")
    rows = await ProfileConsent.select(ProfileConsent.user).where(
        (ProfileConsent.key == key) & (ProfileConsent.granted == True)  # noqa: E712
    )
    return frozenset(str(r["user"]) for r in rows)


async def consents(user_id: str) -> list[ConsentView]:
    """Every known consent key with its state; untouched keys take their default (module doc)."""
    rows = await ProfileConsent.select().where(ProfileConsent.user == user_id)
    stored = {r["key"]: r for r in rows}
    out: list[ConsentView] = []
    for key in known_consents():
        row = stored.get(key)
        out.append(
            ConsentView(key, granted_by_default(key), None, None, None)
            if row is None
            else ConsentView(
                key, bool(row["granted"]), row["granted_at"], row["revoked_at"], row["updated_at"]
            )
        )
    return out


async def set_consent(user_id: str, key: str, granted: bool) -> ConsentView:
    """Grant or revoke one consent key, timestamped.

    Revoking removes, in the same transaction, the outputs and inferred preferences of every
    agent the key gates (the person's own settings stay). Queued agent jobs check consent when
    they run, so none of them writes a snippet back afterwards.
    """
    if key not in known_consents():
        raise ProfileError(
            "UNKNOWN_CONSENT", f"No consent {key!r}; known: {', '.join(known_consents())}.", "key"
        )
    now = datetime.now(UTC)
    gated = [m.id for m in all_agents() if m.consent_key == key]
    async with write_transaction():
        existing = (
            await ProfileConsent.select()
            .where((ProfileConsent.user == user_id) & (ProfileConsent.key == key))
            .first()
        )
        granted_at = now if granted else (existing or {}).get("granted_at")
        revoked_at = None if granted else now
        if granted and existing is not None and existing["granted"]:
            granted_at = existing["granted_at"] or now  # granting twice keeps the first time
        if existing is None:
            await ProfileConsent(
                user=user_id,
                key=key,
                granted=granted,
                granted_at=granted_at,
                revoked_at=revoked_at,
                updated_at=now,
            ).save()
        else:
            await ProfileConsent.update(
                {
                    ProfileConsent.granted: granted,
                    ProfileConsent.granted_at: granted_at,
                    ProfileConsent.revoked_at: revoked_at
                    if not granted
                    else existing["revoked_at"],
                    ProfileConsent.updated_at: now,
                }
            ).where(ProfileConsent.id == existing["id"])
        if not granted and gated:
            await AgentOutput.delete().where(
                (AgentOutput.user == user_id) & AgentOutput.agent_id.is_in(gated)
            )
            await Preference.delete().where(
                (Preference.user == user_id)
                & (Preference.source == "inferred")
                & Preference.scope.is_in([agent_scope(a) for a in gated])
            )
    await profile_changed(user_id, "consent")
    return next(c for c in await consents(user_id) if c.key == key)


def parse_param_text(agent_id: str, key: str, raw: str) -> JsonValue:
    """Form text → the value's type (as declared by the parameter's cold-start default).

    Text that does not parse is passed on as text; the service's check then says, in words,
    what the value must be — nothing is stored from bad input.
    """
    text = raw.strip()
    if key == "enabled":
        return text in {"on", "true", "1"}
    spec = get_agent(agent_id).param(key)
    example = spec.cold_start_default
    if isinstance(example, str) or callable(example):
        return text
    if key == "peak_hours":
        try:
            return sorted({int(p) for p in text.replace(",", " ").split()})
        except ValueError:
            return text
    if isinstance(example, list) and not text.startswith("["):
        # Words typed into one field, separated by commas ("work, home").
        return [part.strip() for part in text.split(",") if part.strip()]
    try:
        value: JsonValue = json.loads(text)
    except ValueError:
        return text
    return value
