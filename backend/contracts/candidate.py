"""A tip candidate: what any source offers the recommender (DESIGN.md §4, TipCandidate)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

KINDS = ("task", "advice", "insight", "reminder")


@dataclass(frozen=True)
class WrittenBy:
    """Who wrote a pre-written tip and from what (None on a source task)."""

    model: str
    prompt_version: str
    agents: tuple[str, ...] = ()
    confidence: float = 0.0
    source_ref: str = ""

    def as_detail(self) -> dict[str, Any]:
        """The decision log's and the GraphQL tip's view of it."""
        return {
            "model": self.model,
            "prompt_version": self.prompt_version,
            "agents": list(self.agents),
            "confidence": self.confidence,
            "source_ref": self.source_ref,
        }


@dataclass(frozen=True)
class Candidate:
    """Something that could be shown: a source task, an LLM advice, a reminder.

    `about` names the open task a written tip is about (it is served only while that task is
    open and not hidden); `task_ref` is the task "done" closes; `duration_min` is how long a
    task takes (calendar gating); `detail` carries source-specific extras (e.g. recur_days).
    """

    item_ref: str
    source: str
    kind: str
    content: str
    priority: int = 1
    due_date: date | None = None
    added_at: datetime | None = None
    project: str = ""
    is_recurring: bool = False
    detail: dict[str, Any] = field(default_factory=dict)
    written: WrittenBy | None = None
    about: str | None = None
    task_ref: str | None = None
    duration_min: int | None = None
