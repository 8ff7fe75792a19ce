"""candidate_features relative to a fixed `now` and the person's timezone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from backend.recommender.features import Candidate, Context, candidate_features

# 23:30 UTC on 10 March is already 12:30 on 11 March in Auckland (UTC+13 in March).
NOW = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
UTC_CTX = Context(now=NOW, timezone="UTC")
AUCKLAND = Context(now=NOW, timezone="Pacific/Auckland")


def task(due: date | None = None, added_at: datetime | None = None, **kw: object) -> Candidate:
    return Candidate(
        item_ref="demo:1",
        source="demo",
        kind="task",
        content="x",
        due_date=due,
        added_at=added_at,
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("due", "ctx", "overdue", "today", "days"),
    [
        (date(2026, 3, 10), UTC_CTX, 0.0, 1.0, 0.0),
        (date(2026, 3, 10), AUCKLAND, 1.0, 0.0, 1.0),
        (date(2026, 3, 11), AUCKLAND, 0.0, 1.0, 0.0),
        (date(2026, 3, 11), UTC_CTX, 0.0, 0.0, 0.0),
        (date(2026, 3, 1), UTC_CTX, 1.0, 0.0, 9.0),
        (date(2026, 3, 1), AUCKLAND, 1.0, 0.0, 10.0),
        (None, UTC_CTX, 0.0, 0.0, 0.0),
    ],
)
def test_due_features_follow_the_local_date(
    due: date | None, ctx: Context, overdue: float, today: float, days: float
) -> None:
    f = candidate_features(task(due), ctx)
    assert (f["is_overdue"], f["due_today"], f["days_overdue"]) == (overdue, today, days)


def test_unknown_timezone_falls_back_to_utc() -> None:
    ctx = Context(now=NOW, timezone="Mars/Olympus_Mons")
    assert ctx.local == NOW
    f = candidate_features(task(date(2026, 3, 10)), ctx)
    assert f["due_today"] == 1.0


def test_task_age_in_days() -> None:
    assert candidate_features(task(added_at=NOW - timedelta(hours=36)), UTC_CTX)[
        "task_age_days"
    ] == pytest.approx(1.5)
    # Never negative (clock skew between a source and us), 0 when unknown.
    assert (
        candidate_features(task(added_at=NOW + timedelta(days=2)), UTC_CTX)["task_age_days"] == 0.0
    )
    assert candidate_features(task(), UTC_CTX)["task_age_days"] == 0.0


def test_context_features_are_local() -> None:
    utc = candidate_features(task(), UTC_CTX)
    akl = candidate_features(task(), AUCKLAND)
    assert (utc["hour_of_day"], utc["day_of_week"]) == (23.0, 1.0)  # Tuesday 23:30
    assert (akl["hour_of_day"], akl["day_of_week"]) == (12.0, 2.0)  # Wednesday 12:30


def test_priority_and_recurrence() -> None:
    f = candidate_features(task(priority=4, is_recurring=True), UTC_CTX)
    assert (f["priority"], f["is_recurring"]) == (4.0, 1.0)
    g = candidate_features(task(), UTC_CTX)
    assert (g["priority"], g["is_recurring"]) == (1.0, 0.0)
    assert all(isinstance(v, float) for v in f.values())
