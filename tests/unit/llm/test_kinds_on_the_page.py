"""The tip page says a tip's kind once, in its label above the tip (tip.html); the line under
it is about the tip itself: project, when, how urgent."""

from __future__ import annotations

from datetime import UTC, date, datetime

from backend.recommender.service import TipView
from backend.recommender.web import tip_meta


def view(kind: str, **detail: object) -> TipView:
    return TipView(
        id="t",
        content="Something kind",
        kind=kind,
        source="momentum",
        item_ref="llm:1",
        served_at=datetime(2026, 11, 18, tzinfo=UTC),
        detail=dict(detail),
    )


def test_advice_has_nothing_under_it() -> None:
    assert tip_meta(view("advice", priority=1), date(2026, 11, 18)) == []


def test_a_reminder_shows_when_not_its_kind_twice() -> None:
    meta = tip_meta(view("reminder", project="Home", due_date="2026-11-18"), date(2026, 11, 18))
    assert meta == ["Home", "due today"]


def test_a_task_shows_its_project_not_its_kind() -> None:
    meta = tip_meta(view("task", project="Work", priority=4), date(2026, 11, 18))
    assert meta == ["Work", "urgent"]


def test_what_the_phrasing_says_is_not_said_again_below_it() -> None:
    overdue = view(
        "task",
        project="Home",
        due_date="2026-11-15",
        priority=4,
        phrasing="Start with “Call the dentist” — it's 3 days overdue.",
    )
    assert tip_meta(overdue, date(2026, 11, 18)) == ["Home", "urgent"]
    later = view(
        "task",
        project="Home",
        due_date="2026-11-30",
        phrasing="One thing from Home to start with: “Call the dentist”.",
    )
    assert tip_meta(later, date(2026, 11, 18)) == ["due Mon 30 Nov"]
