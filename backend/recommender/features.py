"""Candidate and context features (seed: is_overdue, task_age_days, priority, hour, weekday)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Candidate:
    """Something that could be shown: a source task, an LLM advice, a reminder."""

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


@dataclass(frozen=True)
class Context:
    """When and for whom the pick happens."""

    now: datetime
    timezone: str = "UTC"

    @property
    def local(self) -> datetime:
        """`now` in the person's timezone."""
        try:
            return self.now.astimezone(ZoneInfo(self.timezone))
        except (KeyError, ValueError):
            return self.now

    @property
    def hour_of_day(self) -> int:
        """Local hour, 0..23."""
        return self.local.hour

    @property
    def day_of_week(self) -> int:
        """Local weekday, Monday = 0."""
        return self.local.weekday()


def candidate_features(candidate: Candidate, context: Context) -> dict[str, float]:
    """The features logged with a decision and fed to policies."""
    today = context.local.date()
    due = candidate.due_date
    age_days = 0.0
    if candidate.added_at is not None:
        age_days = max(0.0, (context.now - candidate.added_at).total_seconds() / 86400)
    return {
        "is_overdue": 1.0 if due is not None and due < today else 0.0,
        "due_today": 1.0 if due is not None and due == today else 0.0,
        "days_overdue": float(max(0, (today - due).days)) if due is not None else 0.0,
        "task_age_days": round(age_days, 3),
        "priority": float(candidate.priority),
        "is_recurring": 1.0 if candidate.is_recurring else 0.0,
        "hour_of_day": float(context.hour_of_day),
        "day_of_week": float(context.day_of_week),
    }
