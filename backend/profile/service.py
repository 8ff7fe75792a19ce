"""The profile domain's face to the rest of oO: what a person told us and what we inferred.

Other domains (and this domain's GraphQL and pages) import from here only.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from arq.jobs import Job, JobStatus

from agents.registry import all_agents, get_agent
from agents.types import History, JsonValue, Manifest
from backend.audit import record as audit
from backend.contracts.consent import LEARNING_EVERYONE
from backend.contracts.json import json_object
from backend.db import write_transaction
from backend.profile.contexts import activate_context, contexts, upsert_context
from backend.profile.eligibility import (
    Snapshot,
    eligible_agents,
    ineligible_reason,
    snapshot,
    snapshots,
)
from backend.profile.features import FeatureView, compute_features, read_features
from backend.profile.jobs import COMPUTE_JOB, active_user_ids, agent_job_id
from backend.profile.runner import AgentRun, Runner, run_agent
from backend.profile.store import (
    GLOBAL,
    ConsentView,
    ContextView,
    PreferenceView,
    ProfileError,
    agent_scope,
    check_scope,
    consents,
    people_granting,
    preferences,
    set_consent,
    set_preferences,
)
from backend.profile.tables import AgentOutput, ProfileConsent
from backend.queue import enqueue, get_queue, queue_name

__all__ = [
    "GLOBAL",
    "AgentRow",
    "AgentRun",
    "ConsentView",
    "ContextView",
    "Eligibility",
    "FeatureView",
    "OutputView",
    "ParamRow",
    "PreferenceView",
    "ProfileError",
    "activate_context",
    "active_user_ids",
    "agent_ids",
    "agent_outputs",
    "agent_overview",
    "agent_params",
    "agent_scope",
    "check_scope",
    "compute_agent_now",
    "consents",
    "contexts",
    "eligibility",
    "learns_from_everyone",
    "people_granting",
    "person_exists",
    "preferences",
    "read_features",
    "rebuild_profile",
    "request_compute",
    "set_consent",
    "set_preferences",
    "upsert_context",
    "usable_snippets",
]


async def person_exists(user_id: str) -> bool:
    """True for a live account."""
    return await snapshot(user_id) is not None


def agent_ids() -> list[str]:
    """Ids of the registered agents, in registry order."""
    return [m.id for m in all_agents()]


def agent_names() -> dict[str, str]:
    """Each registered agent's name as people read it, by id."""
    return {m.id: m.name for m in all_agents()}


@dataclass(frozen=True)
class OutputView:
    """An agent's stored snippet for a person, with its age."""

    agent_id: str
    agent_version: str
    snippet: str
    snippet_hash: str
    evidence: int
    computed_at: datetime
    expires_at: datetime
    age_s: float
    expired: bool


async def agent_outputs(user_id: str, now: datetime | None = None) -> list[OutputView]:
    """The person's outputs from the agents' current versions (older versions are void)."""
    now = now or datetime.now(UTC)
    current = {m.id: m.version for m in all_agents()}
    rows = await AgentOutput.select(
        AgentOutput.agent_id,
        AgentOutput.agent_version,
        AgentOutput.snippet,
        AgentOutput.snippet_hash,
        AgentOutput.evidence,
        AgentOutput.computed_at,
        AgentOutput.expires_at,
    ).where(AgentOutput.user == user_id)
    order = list(current)
    views = [
        OutputView(
            agent_id=r["agent_id"],
            agent_version=r["agent_version"],
            snippet=r["snippet"],
            snippet_hash=r["snippet_hash"],
            evidence=int(r["evidence"] or 0),
            computed_at=r["computed_at"],
            expires_at=r["expires_at"],
            age_s=(now - r["computed_at"]).total_seconds(),
            expired=r["expires_at"] <= now,
        )
        for r in rows
        if current.get(r["agent_id"]) == r["agent_version"]
    ]
    return sorted(views, key=lambda v: order.index(v.agent_id))


async def usable_snippets(user_id: str) -> list[OutputView]:
    """The snippets a tip writer may use now: eligible agents, current version, not expired."""
    snap = await snapshot(user_id)
    if snap is None:
        return []
    return [
        v
        for v in await agent_outputs(user_id)
        if not v.expired and ineligible_reason(get_agent(v.agent_id), snap) is None
    ]


@dataclass(frozen=True)
class ParamRow:
    """One agent parameter as the settings page shows it."""

    key: str
    description: str
    value: JsonValue
    source: str  # "user" (set by you) | "inferred" | "default"
    evidence: int


@dataclass(frozen=True)
class AgentRow:
    """One agent for one person: may it run, what it wrote, what it inferred."""

    manifest: Manifest
    ineligible: str | None
    consent_granted: bool
    output: OutputView | None
    params: tuple[ParamRow, ...]


def _param_rows(
    manifest: Manifest, snap: Snapshot, stored: dict[str, PreferenceView]
) -> tuple[ParamRow, ...]:
    blank = History(user_id=snap.user_id, timezone=snap.timezone, now=datetime.now(UTC))
    rows: list[ParamRow] = []
    for spec in manifest.params:
        pref = stored.get(spec.key)
        if pref is None:
            rows.append(ParamRow(spec.key, spec.description, spec.default(blank), "default", 0))
        else:
            rows.append(
                ParamRow(spec.key, spec.description, pref.value, pref.source, pref.evidence)
            )
    return tuple(rows)


async def agent_overview(user_id: str) -> list[AgentRow]:
    """Every agent for the settings page and the profile query."""
    snap = await snapshot(user_id)
    if snap is None:
        return []
    outputs = {o.agent_id: o for o in await agent_outputs(user_id)}
    prefs: dict[str, dict[str, PreferenceView]] = {}
    for p in await preferences(user_id):
        prefs.setdefault(p.scope, {})[p.key] = p
    return [
        AgentRow(
            manifest=m,
            ineligible=ineligible_reason(m, snap),
            consent_granted=m.consent_key not in snap.revoked,
            output=outputs.get(m.id),
            params=_param_rows(m, snap, prefs.get(agent_scope(m.id), {})),
        )
        for m in all_agents()
    ]


async def compute_agent_now(user_id: str, agent_id: str) -> AgentRun:
    """Run one agent for one person in this process (CLI; workers use jobs). Raises
    UnknownAgent."""
    return await run_agent(user_id, agent_id, Runner())


async def request_compute(
    actor_user_id: str, user_id: str, agent_id: str, wait_s: float = 15.0, reason: str = ""
) -> tuple[str, str]:
    """Admin: run one agent for a person on a worker now; returns (status, reason).

    Runs on a worker, not in the web process, because an agent may call a model (focus-area's
    embedder) and models stay off the web path. Waits up to `wait_s` for the worker; status
    "queued" when it did not answer in time (the job still runs). Audit-logged.
    """
    manifest = get_agent(agent_id)
    job_id = agent_job_id(manifest.id, user_id, 0) + f":now:{uuid.uuid4().hex[:12]}"
    async with write_transaction():
        await audit(
            actor_user_id,
            "profile.compute_agent",
            user_id,
            {"agent": manifest.id, "reason": reason},
        )
    await enqueue(COMPUTE_JOB, user_id, manifest.id, job_id=job_id)
    job = Job(job_id, await get_queue(), _queue_name=queue_name())
    try:
        result = await job.result(timeout=wait_s, poll_delay=0.1)
    except TimeoutError:
        return "queued", "no worker finished it yet; it will run when one is free"
    except Exception as exc:  # the job itself failed on the worker: say so, do not crash
        return "failed", str(exc)[:200]
    if await job.status() is JobStatus.not_found:
        return "queued", ""
    return str(result.get("status", "computed")), str(result.get("reason", ""))


async def rebuild_profile(actor_user_id: str, user_id: str, reason: str = "") -> list[FeatureView]:
    """Admin: recompute every feature now and queue a run of every eligible agent.

    The audit line is written in the same transaction as the recomputed values.
    """
    snap = await snapshot(user_id)
    if snap is None:
        raise ProfileError("NOT_FOUND", "No such person.", "userId")
    agents = [m.id for m in all_agents() if ineligible_reason(m, snap) is None]
    async with write_transaction():
        values = await compute_features([user_id])
        await audit(
            actor_user_id,
            "profile.rebuild",
            user_id,
            {"features": sorted(values.get(user_id, {})), "agents": agents, "reason": reason},
        )
    stamp = uuid.uuid4().hex[:12]
    for agent_id in agents:
        await enqueue(
            COMPUTE_JOB,
            user_id,
            agent_id,
            job_id=agent_job_id(agent_id, user_id, 0) + f":rebuild:{stamp}",
        )
    return await read_features(user_id)


@dataclass(frozen=True)
class Eligibility:
    """Whose notes may shape a person's tips right now (the LLM domain filters with it)."""

    timezone: str
    agents: frozenset[str]
    """Ids of the agents that are eligible now (enabled, consented, not silenced)."""
    silenced_kinds: frozenset[str]
    """Tip kinds the active context mutes."""
    context: str | None
    """The active context's name."""
    revoked_at: dict[str, datetime] = field(default_factory=dict)
    """agent id → when its consent was last revoked (also after a new grant): anything
    written from the agent's notes before then must never be shown again."""


async def eligibility(user_id: str) -> Eligibility | None:
    """The person's current eligibility (None for an unknown or deleted account).

    Reads only what eligibility needs (`full=False`): it runs when a tip is served.
    """
    found, revocations = await asyncio.gather(
        snapshots([user_id], full=False),
        ProfileConsent.select(ProfileConsent.key, ProfileConsent.revoked_at).where(
            (ProfileConsent.user == user_id) & ProfileConsent.revoked_at.is_not_null()
        ),
    )
    snap = found.get(user_id)
    if snap is None:
        return None
    ctx = snap.active_context
    by_key = {r["key"]: r["revoked_at"] for r in revocations}
    return Eligibility(
        timezone=snap.timezone,
        agents=frozenset(m.id for m in eligible_agents(snap)),
        silenced_kinds=frozenset(ctx.silenced_kinds) if ctx else frozenset(),
        context=ctx.name if ctx else None,
        revoked_at={m.id: by_key[m.consent_key] for m in all_agents() if m.consent_key in by_key},
    )


async def agent_params(user_id: str) -> dict[str, dict[str, JsonValue]]:
    """The effective parameters each agent's current output was computed with, by agent id."""
    current = {m.id: m.version for m in all_agents()}
    rows = (
        await AgentOutput.select(
            AgentOutput.agent_id, AgentOutput.agent_version, AgentOutput.params
        )
        .where(AgentOutput.user == user_id)
        .output(load_json=True)
    )
    out: dict[str, dict[str, JsonValue]] = {}
    for r in rows:
        params = json_object(r["params"])
        if current.get(r["agent_id"]) == r["agent_version"]:
            values = params.get("values")
            out[r["agent_id"]] = dict(json_object(values))
    return out


async def learns_from_everyone(user_id: str) -> bool:
    """Whether the person lets their reactions train the model pooled over everyone."""
    return any(c.key == LEARNING_EVERYONE and c.granted for c in await consents(user_id))
