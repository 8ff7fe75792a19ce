"""Operators' actions on one person and on the event stream; each needs a reason and is
audit-logged with its result (who, when, what, on whom, why, what came of it)."""

from __future__ import annotations

import re
import uuid

from backend import audit
from backend.contracts.errors import Refused
from backend.events import bus
from backend.graphql.types import missing_reason
from backend.identity import service as identity
from backend.integrations import lifecycle
from backend.integrations.status import connected_sources
from backend.llm import service as llm
from backend.profile import service as profile
from backend.recommender.state import reset_states

EVENT_ID = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")


class ActionRefused(Refused):
    """An admin action that was not done; nothing changed."""


def _reason(reason: str) -> str:
    """The reason, trimmed; refused the same way the GraphQL mutations refuse it."""
    if (refused := missing_reason(reason)) is not None:
        raise ActionRefused(refused.code, refused.message, refused.field)
    return reason.strip()


async def _live_person(user_id: str) -> None:
    try:
        uuid.UUID(user_id)
    except ValueError:
        raise ActionRefused("NOT_FOUND", "No such person.", "userId") from None
    if await identity.principal_for_user(user_id, "admin") is None:
        raise ActionRefused(
            "NOT_FOUND", "No such person (or they deleted their account).", "userId"
        )


async def revoke_integration(actor: str, user_id: str, source: str, reason: str) -> str:
    """Disconnect a person's source for them: revoked at the provider, tokens and copies gone."""
    why = _reason(reason)
    await _live_person(user_id)
    if source not in await connected_sources(user_id):
        raise ActionRefused("NOT_FOUND", f"They have no {source} connection.", "sourceName")
    await lifecycle.disconnect(user_id, source)
    result = f"{source} disconnected"
    await audit.record(
        actor, "integration.revoke", user_id, {"source": source, "reason": why, "result": result}
    )
    return result


async def revoke_token(actor: str, user_id: str, token_id: str, reason: str) -> str:
    """Revoke one of a person's personal tokens."""
    why = _reason(reason)
    await _live_person(user_id)
    if not await identity.revoke_api_token(user_id, token_id):
        raise ActionRefused("NOT_FOUND", "They have no token with that id.", "tokenId")
    result = "token revoked"
    await audit.record(
        actor, "token.revoke", user_id, {"token_id": token_id, "reason": why, "result": result}
    )
    return result


async def end_sessions(actor: str, user_id: str, reason: str) -> int:
    """Sign a person out everywhere; returns how many sessions ended."""
    why = _reason(reason)
    await _live_person(user_id)
    ended = 0
    for session in await identity.list_sessions(user_id):
        ended += await identity.revoke_session(user_id, session.id)
    await audit.record(
        actor, "sessions.end", user_id, {"reason": why, "result": f"{ended} session(s) ended"}
    )
    return ended


async def replay_event(actor: str, event_id: str, reason: str) -> str:
    """Publish a past event again, marked `replayed_from`; returns the new event's id.

    Refused for an id the stream does not hold and for a deleted person's event: their data
    is gone, and a replay must not bring any of it back.
    """
    why = _reason(reason)
    if not EVENT_ID.fullmatch(event_id):
        raise ActionRefused("BAD_USER_INPUT", "An event id looks like 1733450000000-0.", "id")
    event = await bus.read_one(event_id)
    if event is None:
        raise ActionRefused(
            "NOT_FOUND", f"No event {event_id} in the stream (it may have aged out).", "id"
        )
    if await identity.principal_for_user(event.user_id, "admin") is None:
        raise ActionRefused(
            "PERSON_DELETED", "This event's person deleted their account: it is not replayed.", "id"
        )
    new_id = await bus.republish(event)
    await audit.record(
        actor,
        "event.replay",
        event.user_id,
        {"event_id": event_id, "subject": event.subject, "reason": why, "result": new_id},
    )
    return new_id


async def reset_learning(actor: str, user_id: str, reason: str) -> str:
    """Forget what every policy learned about a person."""
    why = _reason(reason)
    await _live_person(user_id)
    deleted = await reset_states(actor, user_id, None, why)
    return f"{deleted} learned state(s) forgotten"


async def rebuild_profile(actor: str, user_id: str, reason: str) -> str:
    """Recompute a person's profile features now and queue their agents."""
    why = _reason(reason)
    await _live_person(user_id)
    try:
        features = await profile.rebuild_profile(actor, user_id, why)
    except profile.ProfileError as err:
        raise ActionRefused(err.code, err.message, err.field) from None
    return f"{len(features)} feature(s) recomputed; their agents are queued"


async def compute_agent(actor: str, user_id: str, agent_id: str, reason: str) -> str:
    """Run one agent for a person on a worker now (waits up to 15 s)."""
    why = _reason(reason)
    await _live_person(user_id)
    if agent_id not in profile.agent_ids():
        raise ActionRefused("UNKNOWN_AGENT", f"No agent {agent_id!r}.", "agentId")
    status, detail = await profile.request_compute(actor, user_id, agent_id, reason=why)
    return f"{agent_id}: {status}" + (f" ({detail})" if detail else "")


async def regenerate_candidates(actor: str, user_id: str, reason: str) -> str:
    """Rewrite a person's tip candidates now, on a worker."""
    why = _reason(reason)
    await _live_person(user_id)
    queued = await llm.regenerate(actor, user_id, why)
    return "rewriting queued" if queued else "a rewrite is already queued or running"


async def run(actor: str, user_id: str, action: str, reason: str, argument: str = "") -> str:
    """The person page's actions by name (the form's `action` field)."""
    match action:
        case "revoke_integration":
            return await revoke_integration(actor, user_id, argument, reason)
        case "revoke_token":
            return await revoke_token(actor, user_id, argument, reason)
        case "end_sessions":
            ended = await end_sessions(actor, user_id, reason)
            return f"{ended} session(s) ended"
        case "reset_learning":
            return await reset_learning(actor, user_id, reason)
        case "rebuild_profile":
            return await rebuild_profile(actor, user_id, reason)
        case "compute_agent":
            return await compute_agent(actor, user_id, argument, reason)
        case "regenerate_candidates":
            return await regenerate_candidates(actor, user_id, reason)
    raise ActionRefused("BAD_USER_INPUT", f"No action {action!r}.", "action")
