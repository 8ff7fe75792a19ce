"""What a tip writer knows about a person: gathered from the owning domains' services.

Runs in workers only (generation), never when a tip is served.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from backend.contracts.candidate import Candidate
from backend.contracts.clock import local_time
from backend.integrations.service import open_items
from backend.profile import service as profile

MAX_TASKS = 6
"""Tasks offered to the writer: the most pressing few (a prompt is not a task list)."""


@dataclass(frozen=True)
class Note:
    """One eligible agent's fresh snippet and the parameters behind it."""

    agent_id: str
    snippet: str
    snippet_hash: str
    computed_at: datetime
    expires_at: datetime
    params: dict[str, Any] = field(default_factory=dict)
    evidence: int = 0
    """Events the agent's inferred values rest on (0: cold-start defaults, not habits)."""


@dataclass(frozen=True)
class TipContext:
    """Everything one generation reads, frozen at one moment."""

    user_id: str
    now: datetime
    timezone: str
    prefs: dict[str, Any]
    context_name: str | None
    silenced_kinds: frozenset[str]
    notes: tuple[Note, ...]
    tasks: tuple[Candidate, ...]

    @property
    def local(self) -> datetime:
        """`now` in the person's zone."""
        return local_time(self.now, self.timezone)

    @property
    def today(self) -> date:
        """The person's local date."""
        return self.local.date()

    def note(self, agent_id: str) -> Note | None:
        """The note of one agent, if eligible and fresh."""
        return next((n for n in self.notes if n.agent_id == agent_id), None)


def pressing(tasks: list[Candidate], today: date, limit: int = MAX_TASKS) -> list[Candidate]:
    """The most pressing tasks: overdue first, then due soonest, then by priority and age."""

    def rank(c: Candidate) -> tuple[int, int, int, float]:
        days = (c.due_date - today).days if c.due_date else 10_000
        added = c.added_at.timestamp() if c.added_at else 0.0
        return (0 if days < 0 else 1, days, -c.priority, added)

    return sorted(tasks, key=rank)[:limit]


async def gather_context(user_id: str, now: datetime) -> TipContext | None:
    """The person's context now (None for an unknown or deleted account)."""
    elig, snippets, params, prefs, items = await asyncio.gather(
        profile.eligibility(user_id),
        profile.usable_snippets(user_id),
        profile.agent_params(user_id),
        profile.preferences(user_id, profile.GLOBAL),
        open_items(user_id),
    )
    if elig is None:
        return None
    notes = sorted(
        (
            Note(
                agent_id=s.agent_id,
                snippet=s.snippet,
                snippet_hash=s.snippet_hash,
                computed_at=s.computed_at,
                expires_at=s.expires_at,
                params=params.get(s.agent_id, {}),
                evidence=s.evidence,
            )
            for s in snippets
            if s.agent_id in elig.agents
        ),
        key=lambda n: n.computed_at,
        reverse=True,  # freshest first: when the budget is tight, older notes go
    )
    ctx = TipContext(
        user_id=user_id,
        now=now,
        timezone=elig.timezone,
        prefs={p.key: p.value for p in prefs},
        context_name=elig.context,
        silenced_kinds=elig.silenced_kinds,
        notes=tuple(notes),
        tasks=(),
    )
    tasks = [c for c in items if c.kind == "task"]
    return replace(ctx, tasks=tuple(pressing(tasks, ctx.today)))
