"""Calendar context rules: busy now, next event, declined and all-day events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.integrations.gcal import compute_context
from backend.integrations.service import fits_calendar
from backend.recommender.features import Candidate

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def event(start: datetime, minutes: int = 60, **extra: object) -> dict[str, object]:
    end = start + timedelta(minutes=minutes)
    return {
        "id": str(start.timestamp()),
        "status": "confirmed",
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": end.isoformat()},
        **extra,
    }


def all_day(day: str) -> dict[str, object]:
    return {"id": day, "status": "confirmed", "start": {"date": day}, "end": {"date": "2026-11-24"}}


def test_busy_now_and_next_event() -> None:
    ctx = compute_context(
        [event(NOW - timedelta(minutes=10)), event(NOW + timedelta(minutes=90))], NOW
    )
    assert ctx.busy_now is True
    assert ctx.free_block_minutes(NOW) == 0
    assert ctx.minutes_until_next(NOW) == 90


def test_free_until_the_next_meeting() -> None:
    ctx = compute_context([event(NOW + timedelta(minutes=5)), event(NOW + timedelta(hours=3))], NOW)
    assert ctx.busy_now is False
    assert ctx.free_block_minutes(NOW) == 5


def test_declined_and_cancelled_events_are_ignored() -> None:
    declined = event(
        NOW - timedelta(minutes=5),
        attendees=[{"email": "me@example.com", "self": True, "responseStatus": "declined"}],
    )
    cancelled = {**event(NOW + timedelta(minutes=5)), "status": "cancelled"}
    ctx = compute_context([declined, cancelled], NOW)
    assert ctx.busy_now is False
    assert ctx.next_event_at is None
    assert ctx.free_block_minutes(NOW) is None


def test_all_day_events_do_not_block_time_but_are_counted() -> None:
    ctx = compute_context([all_day("2026-11-23")], NOW)
    assert ctx.busy_now is False
    assert ctx.all_day_events == 1
    assert ctx.free_block_minutes(NOW) is None


def test_a_long_task_does_not_fit_before_a_meeting() -> None:
    ctx = compute_context([event(NOW + timedelta(minutes=5))], NOW)
    long_task = Candidate("t:1", "todoist", "task", "Deep work", duration_min=60)
    short_task = Candidate("t:2", "todoist", "task", "Reply to Sam", duration_min=5)
    untimed = Candidate("t:3", "todoist", "task", "Water plants")
    assert fits_calendar(long_task, ctx, NOW) is False
    assert fits_calendar(short_task, ctx, NOW) is True
    assert fits_calendar(untimed, ctx, NOW) is True
    assert fits_calendar(long_task, None, NOW) is True
