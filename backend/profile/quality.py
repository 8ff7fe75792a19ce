"""Agent outputs past their TTL, per agent (the console's data quality page)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from piccolo.query.functions.aggregate import Count

from backend.profile.tables import AgentOutput


@dataclass(frozen=True)
class AgentFreshness:
    """One agent's stored outputs and how many are past their TTL."""

    agent_id: str
    outputs: int
    expired: int


async def agent_freshness(now: datetime | None = None) -> list[AgentFreshness]:
    """Every agent with stored outputs of live people, by id."""
    moment = now or datetime.now(UTC)
    live = AgentOutput.user.deleted_at.is_null()
    totals, expired = await asyncio.gather(
        AgentOutput.select(AgentOutput.agent_id, Count(alias="n"))
        .where(live)
        .group_by(AgentOutput.agent_id)
        .run(),
        AgentOutput.select(AgentOutput.agent_id, Count(alias="n"))
        .where(live & (AgentOutput.expires_at < moment))
        .group_by(AgentOutput.agent_id)
        .run(),
    )
    late = {r["agent_id"]: int(r["n"]) for r in expired}
    return [
        AgentFreshness(
            agent_id=r["agent_id"], outputs=int(r["n"]), expired=late.get(r["agent_id"], 0)
        )
        for r in sorted(totals, key=lambda r: r["agent_id"])
    ]
