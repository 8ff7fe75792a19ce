"""Which stored candidates may be served: decided when they are written and whenever the
person's consents, contexts or agent settings change — never on a pick.

A candidate is blocked as soon as one of the agents whose notes shaped it is no longer
eligible (consent revoked, turned off, silenced by the active context), or when its kind is
muted by the active context. Revoking a consent blocks for good what was written before it:
granting again later does not bring back words written from the deleted notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from backend.db import write_transaction
from backend.events.contracts import AgentComputed, ProfileChanged
from backend.llm.tables import TipCandidate
from backend.llm.triggers import snippets_changed
from backend.profile.service import Eligibility, eligibility


def written_by(row: dict[str, Any]) -> list[str]:
    """The agents whose notes shaped a stored candidate."""
    agents = row.get("agents")
    return [str(a) for a in agents] if isinstance(agents, list) else []


def blocked_reason(row: dict[str, Any], elig: Eligibility | None) -> str | None:
    """Why a stored candidate may not be served now (None: it may)."""
    if elig is None:
        return "no such person"
    for agent in written_by(row):
        revoked = elig.revoked_at.get(agent)
        if revoked is not None and revoked >= row["created_at"]:
            return f"consent for {agent} was revoked after it was written"
        if agent not in elig.agents:
            return f"agent {agent} is no longer eligible"
    if row["kind"] in elig.silenced_kinds:
        return f"{row['kind']} is muted by context {elig.context!r}"
    return None


async def refresh_blocked(user_id: str) -> int:
    """Re-decide every stored candidate of the person; returns how many changed."""
    rows: Sequence[dict[str, Any]] = (
        await TipCandidate.select(
            TipCandidate.id,
            TipCandidate.kind,
            TipCandidate.agents,
            TipCandidate.created_at,
            TipCandidate.blocked,
        )
        .where(TipCandidate.user == user_id)
        .output(load_json=True)
    )
    if not rows:
        return 0
    elig = await eligibility(user_id)
    changes = [
        (row["id"], reason)
        for row in rows
        if (reason := blocked_reason(row, elig)) != row["blocked"]
    ]
    if changes:
        async with write_transaction():
            for row_id, reason in changes:
                await TipCandidate.update({TipCandidate.blocked: reason}).where(
                    TipCandidate.id == row_id
                )
    return len(changes)


async def on_profile_changed(user_id: str, event: ProfileChanged) -> None:
    """A consent, context or agent setting changed: re-decide what may be served."""
    await refresh_blocked(user_id)


async def on_agents_computed(events: Sequence[tuple[str, AgentComputed]]) -> None:
    """New words in notes: those people's tip candidates are rewritten (one job per person,
    deduped; one queue round trip for a worker's whole batch of agent results)."""
    await snippets_changed([user_id for user_id, event in events if event.changed])
