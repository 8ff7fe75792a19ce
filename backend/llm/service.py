"""The LLM domain's face: candidates for serving (a cheap read — never a model call), the admin
view of what is queued to be shown, and generation requests.

Serving re-checks eligibility: a candidate is dropped as soon as one of the agents whose notes
shaped it is no longer eligible (consent revoked, turned off, silenced by the active context),
or when its kind is muted by the active context. Expired candidates are never read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from backend.admin.service import record as audit
from backend.db import write_transaction
from backend.llm import store
from backend.llm.triggers import request_generation
from backend.recommender.features import Candidate

if TYPE_CHECKING:
    from backend.profile.service import Eligibility

__all__ = [
    "DETAIL_KEYS",
    "CandidateView",
    "candidates_for",
    "llm_candidates",
    "regenerate",
    "request_generation",
    "still_relevant",
]

ITEM_PREFIX = "llm:"
DETAIL_KEYS = ("model", "prompt_version", "task_ref", "agents", "confidence", "source_ref")
"""What a served generated tip carries into the decision log and the GraphQL `Tip`."""


async def _eligibility(user_id: str) -> Eligibility | None:
    # Imported at call time: the profile service imports the recommender's service (agents
    # read reactions), and the recommender imports this module to serve candidates.
    from backend.profile.service import eligibility

    return await eligibility(user_id)


def _blocked(row: dict[str, Any], elig: Eligibility | None) -> str | None:
    """Why a stored candidate may not be served now (None: it may)."""
    if elig is None:
        return "no such person"
    for agent in _agents(row):
        revoked = elig.revoked_at.get(agent)
        if revoked is not None and revoked >= row["created_at"]:
            # Granting again later does not bring back words written from the deleted notes.
            return f"consent for {agent} was revoked after it was written"
        if agent not in elig.agents:
            return f"agent {agent} is no longer eligible"
    if row["kind"] in elig.silenced_kinds:
        return f"{row['kind']} is muted by context {elig.context!r}"
    return None


def _agents(row: dict[str, Any]) -> list[str]:
    agents = row.get("agents")
    return [str(a) for a in agents] if isinstance(agents, list) else []


def _candidate(row: dict[str, Any]) -> Candidate:
    detail = row["detail"] if isinstance(row["detail"], dict) else {}
    due = detail.get("due_date")
    extra = {
        "model": row["model"],
        "prompt_version": row["prompt_version"],
        "agents": _agents(row),
        "confidence": float(row["confidence"]),
        "source_ref": row["source_ref"],
    }
    for key in ("task_ref", "about"):
        if detail.get(key):
            extra[key] = detail[key]
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
        detail=extra,
    )


async def llm_candidates(user_id: str, now: datetime | None = None) -> list[Candidate]:
    """The person's servable generated candidates (stored, unexpired, still eligible)."""
    rows = await store.unexpired(user_id, now or datetime.now(UTC))
    if not rows:
        return []  # the common cold case costs one indexed query
    elig = await _eligibility(user_id)
    return [_candidate(r) for r in rows if _blocked(r, elig) is None]


def still_relevant(
    written: list[Candidate], items: list[Candidate], hidden: set[str]
) -> list[Candidate]:
    """Written tips about a task only while that task is open and not hidden (snoozed,
    dismissed, just done): a reminder of something finished is worse than no tip."""
    open_refs = {c.item_ref for c in items} - hidden
    return [c for c in written if "about" not in c.detail or c.detail["about"] in open_refs]


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
    elig = await _eligibility(user_id) if rows else None
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
            agents=tuple(_agents(r)),
            created_at=r["created_at"],
            expires_at=r["expires_at"],
            expired=r["expires_at"] <= now,
            blocked=_blocked(r, elig),
        )
        for r in rows
    ]
    return sorted(views, key=lambda v: (v.expired or v.blocked is not None, -v.confidence))


async def regenerate(actor_user_id: str, user_id: str) -> bool:
    """Admin: rewrite a person's candidates now, even if nothing changed (audit-logged).

    False when a generation for them is already queued or running.
    """
    async with write_transaction():
        await audit(actor_user_id, "llm.regenerate", user_id, {})
    return await request_generation(user_id, delay_s=0, force=True)
