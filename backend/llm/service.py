"""The LLM domain's face: candidates for serving (a cheap read — never a model call), the admin
view of what is queued to be shown, and generation requests.

Whether a stored candidate may be served is decided when it is written and whenever the
person's consents or contexts change (backend/llm/eligibility.py), so serving reads only the
unblocked, unexpired rows. Expired candidates are never read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from backend.audit import record as audit
from backend.contracts.candidate import Candidate, WrittenBy
from backend.contracts.json import json_object
from backend.db import write_transaction
from backend.llm import store
from backend.llm.eligibility import written_by
from backend.llm.triggers import request_generation

__all__ = [
    "CandidateView",
    "candidates_for",
    "llm_candidates",
    "regenerate",
    "request_generation",
]

ITEM_PREFIX = "llm:"


def _candidate(row: dict[str, Any]) -> Candidate:
    detail = json_object(row["detail"])
    due = detail.get("due_date")
    return Candidate(
        item_ref=f"{ITEM_PREFIX}{row['id']}",
        source=row["source"],
        kind=row["kind"],
        content=row["content"],
        priority=int(detail.get("priority") or 1),
        due_date=date.fromisoformat(due) if isinstance(due, str) else None,
        added_at=row["created_at"],
        project=str(detail.get("project") or ""),
        is_recurring=bool(detail.get("is_recurring")),
        written=WrittenBy(
            model=row["model"],
            prompt_version=row["prompt_version"],
            agents=tuple(written_by(row)),
            confidence=float(row["confidence"]),
            source_ref=row["source_ref"],
        ),
        about=str(detail["about"]) if detail.get("about") else None,
        task_ref=str(detail["task_ref"]) if detail.get("task_ref") else None,
    )


async def llm_candidates(user_id: str, now: datetime | None = None) -> list[Candidate]:
    """The person's servable generated candidates (stored, unexpired, not blocked)."""
    rows = await store.unexpired(user_id, now or datetime.now(UTC))
    return [_candidate(r) for r in rows if r["blocked"] is None]


@dataclass(frozen=True)
class CandidateView:
    """A stored candidate as the admin console shows it."""

    id: str
    content: str
    kind: str
    source: str
    model: str
    prompt_version: str
    confidence: float
    source_ref: str
    agents: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    expired: bool
    blocked: str | None
    """Why it will not be served even though it is stored (None: it may be served)."""


async def candidates_for(user_id: str, now: datetime | None = None) -> list[CandidateView]:
    """Everything stored for the person, servable first, with why the rest is not."""
    now = now or datetime.now(UTC)
    rows = await store.all_candidates(user_id)
    views = [
        CandidateView(
            id=str(r["id"]),
            content=r["content"],
            kind=r["kind"],
            source=r["source"],
            model=r["model"],
            prompt_version=r["prompt_version"],
            confidence=float(r["confidence"]),
            source_ref=r["source_ref"],
            agents=tuple(written_by(r)),
            created_at=r["created_at"],
            expires_at=r["expires_at"],
            expired=r["expires_at"] <= now,
            blocked=r["blocked"],
        )
        for r in rows
    ]
    return sorted(views, key=lambda v: (v.expired or v.blocked is not None, -v.confidence))


async def regenerate(actor_user_id: str, user_id: str, reason: str = "") -> bool:
    """Admin: rewrite a person's candidates now, even if nothing changed (audit-logged).

    False when a generation for them is already queued or running.
    """
    async with write_transaction():
        await audit(actor_user_id, "llm.regenerate", user_id, {"reason": reason})
    return await request_generation(user_id, delay_s=0, force=True)
