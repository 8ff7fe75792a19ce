"""Building tip contexts by hand for unit tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from backend.llm.context import Note, TipContext
from backend.recommender.features import Candidate

NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)  # a Wednesday


def note(agent_id: str, snippet: str, params: dict[str, Any], age_min: int = 5) -> Note:
    computed = NOW - timedelta(minutes=age_min)
    return Note(
        agent_id=agent_id,
        snippet=snippet,
        snippet_hash=f"hash-{agent_id}-{len(snippet)}",
        computed_at=computed,
        expires_at=computed + timedelta(hours=6),
        params=params,
        evidence=40,
    )


def task(ref: str, content: str, *, due_in: int | None = None, project: str = "Home") -> Candidate:
    due = NOW.date() + timedelta(days=due_in) if due_in is not None else None
    return Candidate(
        item_ref=ref,
        source="demo",
        kind="task",
        content=content,
        priority=3,
        due_date=due,
        added_at=NOW - timedelta(days=10),
        project=project,
    )


NOTES = (
    note(
        "time-of-day",
        "Time of day (UTC): quiet 22:00–07:00; most things get done around 10:00; peak hours "
        "09:00, 10:00, 11:00.",
        {"preferred_hour": 10, "quiet_start": 22, "quiet_end": 7, "peak_hours": [9, 10, 11]},
        age_min=1,
    ),
    note(
        "momentum",
        "Momentum: the last 7 days are -1.4 standard deviations from their baseline of 3.2.",
        {"engagement_trend": -1.4, "baseline_completions_per_day": 3.2, "stdev": 1.1},
        age_min=3,
    ),
    note(
        "overdue-task",
        "Overdue tasks: they usually finish things 1 day after the due date; due dates in Work "
        "are real.",
        {"lateness_tolerance_days": 1.0, "project_realness": {"Work": 1.6, "Home": 0.7}},
        age_min=7,
    ),
    note(
        "focus-area",
        "Focus: most of their effort goes to Work and Home.",
        {"preferred_areas": ["Work", "Home"]},
        age_min=9,
    ),
)
TASKS = (
    task("demo:1", "Send the quarterly numbers to Anna", due_in=-4, project="Work"),
    task("demo:2", "Book the dentist", due_in=0),
    task("demo:3", "Fix the bike light", due_in=2),
    task("demo:4", "Sort the photo archive"),
)


def context(
    user_id: str = "u-1",
    notes: tuple[Note, ...] = NOTES,
    tasks: tuple[Candidate, ...] = TASKS,
    now: datetime = NOW,
    silenced: frozenset[str] = frozenset(),
) -> TipContext:
    return TipContext(
        user_id=user_id,
        now=now,
        timezone="UTC",
        prefs={"tone": "gentle"},
        context_name="work" if silenced else None,
        silenced_kinds=silenced,
        notes=notes,
        tasks=tasks,
    )


def today() -> date:
    return NOW.date()
