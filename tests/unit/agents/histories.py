"""Crafted histories for agent tests: a person whose behaviour we know exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from agents.types import History, HistoryEvent

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # a Friday


def done(
    at: datetime,
    project: str = "Work",
    content: str = "Write the report",
    due: date | None = None,
) -> HistoryEvent:
    """A completion."""
    return HistoryEvent(
        at=at, kind="done", source="completion", project=project, content=content, due_date=due
    )


def history(events: list[HistoryEvent], tz: str = "UTC", now: datetime = NOW) -> History:
    """A history, oldest event first."""
    return History(
        user_id="u1", timezone=tz, now=now, events=tuple(sorted(events, key=lambda e: e.at))
    )


def awake_person(days: int = 14, first_hour: int = 7, last_hour: int = 22) -> History:
    """One completion every waking hour (07:00–22:xx) for `days` days, nothing at night."""
    events = [
        done(NOW.replace(hour=h, minute=15) - timedelta(days=d))
        for d in range(1, days + 1)
        for h in range(first_hour, last_hour + 1)
    ]
    return history(events)


def daily(counts: list[int], hour: int = 10, **kw: object) -> History:
    """`counts[i]` completions on the day i days before today's date (index 0 = today)."""
    events = [
        done((NOW - timedelta(days=d)).replace(hour=hour, minute=m), **kw)  # type: ignore[arg-type]
        for d, n in enumerate(counts)
        for m in range(n)
    ]
    return history(events)
